// Setup: pick the broker account the ticket and the hotkeys trade on (accounts.list / activate), and
// test an account's connection (accounts.test: reachability, key, permissions, IP, position mode, clock).
// A login with several accounts (Tradovate, Volumetrica) has one row per account once it has
// connected; "Use" on one makes it the account the entry trades (remembered in the vault).

import { h } from './dom.js';
import { describeFailure } from './ticket_form.js';
import { listedAccounts } from './trade_view.js';
import { tradeStore } from './trade_store.js';

// The host's account link states (core/link.py): what each is called here.
const STATE_TEXT = {
  live: 'live',
  connecting: 'connecting…',
  syncing: 'syncing…',
  degraded: 'reconnecting',
  disconnected: 'not connected',
  auth_failed: 'key refused',
  stopped: 'stopped',
};

// Test connection (accounts.test): each check's mark and colour (the host sends ok/warn/fail/skip).
const CHECK_MARK = { ok: '✓', warn: '!', fail: '✗', skip: '–' };
const CHECK_COLOUR = { ok: 'var(--buy)', warn: 'var(--warn)', fail: 'var(--sell)', skip: 'var(--muted)' };
const CHECK_SUMMARY = {
  ok: 'Connection test passed.',
  warn: 'Connection test passed, with warnings:',
  fail: 'Connection test failed:',
  skip: 'Nothing could be checked:',
};

export function mountAccounts(root, client) {
  const store = tradeStore(client);
  // account id -> { busy } | { result } | { error }: kept across re-renders of the list
  const tests = new Map();
  const list = h('ul', { class: 'acct-list', id: 'accounts-list' });
  const result = h('p', { class: 'action-result', id: 'accounts-result', 'aria-live': 'polite' });
  const disconnect = h('button', { type: 'button', class: 'btn-small', id: 'accounts-deactivate' }, 'Disconnect');
  root.replaceChildren(
    h('div', { class: 'card-head' }, h('h2', { id: 'accounts-title' }, 'Broker account'), h('span', { class: 'head-tools' }, disconnect)),
    h('p', { class: 'hint' }, 'The ticket, the positions and the hotkeys use the active account. Add accounts in the vault above; the list follows the vault by itself. A login with several accounts lists each of them once connected: Use picks one (remembered; the Trade tab header switches too).'),
    list, result);
  root.setAttribute('aria-labelledby', 'accounts-title');

  async function run(label, fn) {
    result.dataset.tone = 'busy';
    result.textContent = `${label}…`;
    try {
      await fn();
      result.dataset.tone = 'ok';
      result.textContent = `${label}: done`;
    } catch (err) {
      result.dataset.tone = 'error';
      result.textContent = `${label}: ${describeFailure(err).text}`;
    }
    await store.setActive();
  }

  disconnect.addEventListener('click', () => run('Disconnect', () => client.request('accounts.deactivate')));

  async function testAccount(acc) {
    tests.set(acc.id, { busy: true });
    render();
    try {
      const result = await client.request('accounts.test', { account_id: acc.id }, { timeoutMs: 60_000 });
      tests.set(acc.id, { result });
    } catch (err) {
      tests.set(acc.id, { error: describeFailure(err).text });
    }
    render();
  }

  function testView(acc) {
    const t = tests.get(acc.id);
    if (!t) return '';
    const box = (status, ...kids) => h('div', {
      class: 'acct-test', role: 'status', 'aria-live': 'polite', dataset: { status },
      style: 'grid-column: 1 / -1; margin-top: 6px; font-size: 12px;',
    }, ...kids);
    if (t.busy) return box('busy', h('p', { class: 'muted' }, 'Testing the connection…'));
    if (t.error) return box('error', h('p', { style: `color: ${CHECK_COLOUR.fail}` }, `Test connection: ${t.error}`));
    const r = t.result;
    return box(r.status,
      h('p', { class: 'acct-test-summary' }, CHECK_SUMMARY[r.status] ?? r.status),
      h('ul', { class: 'acct-checks', style: 'list-style: none; margin: 2px 0 0; padding: 0;' },
        ...(r.checks ?? []).map((c) => h('li', { class: 'acct-check', dataset: { check: c.name, status: c.status } },
          h('span', { 'aria-hidden': 'true', style: `display: inline-block; width: 1.2em; color: ${CHECK_COLOUR[c.status] ?? 'inherit'}` }, CHECK_MARK[c.status] ?? '?'),
          h('span', { class: 'sr-only' }, `${c.status}: `),
          h('strong', {}, c.label), ' — ',
          h('span', { class: 'acct-check-detail' }, c.detail)))));
  }

  function brokerOf(acc) {
    return store.status?.brokers?.find?.((b) => b.account_id === acc.id) ?? acc;
  }

  function render() {
    const { active_id: activeId, error } = store.accounts;
    const accounts = listedAccounts(store.accounts.accounts, store.status?.brokers);
    disconnect.disabled = !activeId;
    if (error) {
      const text = error.code === 'locked'
        ? 'Unlock the vault to see your accounts.'
        : error.code === 'unknown_type'
          ? 'This Sidedesk host cannot trade yet (host too old).'
          : `Could not list accounts: [${error.code}] ${error.message}`;
      list.replaceChildren(h('li', { class: 'muted' }, text));
      return;
    }
    if (!accounts.length) {
      list.replaceChildren(h('li', { class: 'muted' }, 'No broker accounts in the vault yet.'));
      return;
    }
    list.replaceChildren(...accounts.map((acc) => {
      const b = brokerOf(acc);
      const active = acc.id === activeId;
      const state = b.state ?? acc.state;
      const waiting = state === 'degraded' || (state === 'disconnected' && b.next_retry_s != null);
      const retry = waiting && b.attempt ? ` (attempt ${b.attempt}${b.next_retry_s ? `, next in ${Math.round(b.next_retry_s)} s` : ''}${b.slow_retry ? ', retrying slowly' : ''})` : '';
      const btn = h('button', {
        type: 'button', class: active ? 'btn-small' : 'btn-small primary',
        'aria-label': `${active ? 'Reconnect' : 'Use'} ${acc.name}${acc.account_name ? ` ${acc.account_name}` : ''}`,
        onclick: () => run(`${active ? 'Reconnect' : 'Activate'} ${acc.name}${acc.account_name ? ` (${acc.account_name})` : ''}`, () => client.request('accounts.activate', { account_id: acc.id }, { timeoutMs: 30_000 })),
      }, active ? 'Reconnect' : 'Use');
      const testing = tests.get(acc.id)?.busy === true;
      const test = h('button', {
        type: 'button', class: 'btn-small', dataset: { action: 'test' }, disabled: testing,
        'aria-label': `Test connection of ${acc.name}`,
        title: 'Reachability, key, permissions, IP restriction, position mode and clock (nothing is traded)',
        onclick: () => testAccount(acc),
      }, testing ? 'Testing…' : 'Test');
      return h('li', { class: 'acct', dataset: { accountId: acc.id, state, active: String(active) } },
        h('span', { class: 'acct-dot', 'data-state': state, 'aria-hidden': 'true' }),
        h('span', { class: 'acct-name' }, h('strong', {}, acc.name),
          acc.account_name || acc.venue_account ? h('span', { class: 'acct-venue' }, ` · ${acc.account_name || acc.venue_account}`) : '',
          active ? h('span', { class: 'tag' }, 'active') : ''),
        h('span', { class: 'muted' }, `${acc.broker} · ${acc.environment}${acc.key_hint ? ` · ${acc.key_hint}` : ''}`),
        h('span', { class: 'acct-state' }, `${STATE_TEXT[state] ?? state}${retry}`, b.detail ? h('span', { class: 'muted' }, ` — ${b.detail}`) : ''),
        // two buttons in the row's button cell (.acct's grid has one): stacked
        h('span', { class: 'acct-actions', style: 'grid-area: btn; display: flex; flex-direction: column; gap: 4px;' }, btn, test),
        testView(acc));
    }));
  }

  // The list follows the host: the store reloads it when the vault changes (an account added or
  // removed here, in another panel or from the CLI; unlocked; locked) or another panel switches.
  store.on('accounts', render);
  store.on('status', render);
  render();
}
