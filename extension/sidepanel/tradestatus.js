// The Trade tab's connection strip: green "live", pulsing amber "reconnecting (attempt N)", red
// "offline — showing cached data", the active account, and the host's latest warning (log topic).
// Also owns the "No broker account yet" empty state of the Trade tab, the red Unprotected banner
// (with the one action that fixes each position), the "Locked — unlock to trade" line, and the
// account switcher:
// when the active account's login holds several accounts (Tradovate, Volumetrica), a menu of them
// that makes the picked one active (accounts.activate; the host remembers it in the vault entry)
// and so re-scopes the ticket, hotkeys, positions, orders, P&L, chart and ASL views.

import { h } from './dom.js';
import { flattenControl } from './flatten.js';
import { tradeIndicator } from './live.js';
import { describeFailure } from './ticket_form.js';
import { accountChoices, lockedView } from './trade_view.js';
import { tradeStore } from './trade_store.js';
import { tidyNumbers } from './words.js';
import { accountLabel, fixActsOnAccount, fixOf, positionWords } from '../lib/unprotected.js';

/** Ask the panel to show the control that fixes it (panel.js focuses it). */
export function requestFix(fix) {
  document.dispatchEvent(new CustomEvent('sidedesk-fix', { detail: { tab: fix.tab, focus: fix.focus, reason: fix.reason } }));
}

const LOG_SHOW_MS = 30_000;

export function mountTradeStatus(root, client) {
  const store = tradeStore(client);
  const dot = h('span', { class: 'live-dot', 'aria-hidden': 'true' });
  const label = h('span', { class: 'live-label', id: 'trade-live-label' });
  const account = h('span', { class: 'live-account muted' });
  const detail = h('span', { class: 'live-detail muted' });
  const strip = h('div', { class: 'live-strip', id: 'trade-live', role: 'status', 'data-tone': 'idle' }, dot, label, account, detail);
  const logLine = h('p', { class: 'live-log', id: 'trade-log', 'aria-live': 'polite', hidden: true });
  // The host's list of positions without a working managed stop (core/unprotected.py), each with
  // the one action that fixes it: a red banner nobody can miss.
  const unprotected = h('div', { class: 'unprotected', id: 'trade-unprotected', role: 'alert', hidden: true });
  // While the vault is locked: what still works and what needs an unlock (core/lock.py), or that
  // the rows are the journal's last known ones.
  const lockedText = h('strong', { id: 'trade-locked-text' });
  const lockedDetail = h('span', { class: 'locked-detail', id: 'trade-locked-detail' });
  const unlock = h('button', { type: 'button', class: 'btn-small', id: 'trade-unlock' }, 'Unlock');
  unlock.addEventListener('click', () => requestFix({ tab: 'setup', focus: 'vault', reason: 'locked' }));
  const locked = h('div', { class: 'locked-line', id: 'trade-locked', role: 'status', hidden: true }, lockedText, lockedDetail, unlock);
  const flatten = flattenControl(store, { id: 'trade-flatten', resultId: 'trade-flatten-result' });
  const switcher = h('select', {
    id: 'trade-account-switch', class: 'account-switch', 'aria-label': 'Account of this login to trade on',
    title: 'The account the ticket, the hotkeys and these tables use', hidden: true,
  });
  const switchResult = h('p', { class: 'action-result', id: 'trade-account-result', 'aria-live': 'polite', hidden: true });
  const head = h('div', { class: 'trade-head' }, strip, switcher, flatten.button);
  root.replaceChildren(head, switchResult, unprotected, locked, flatten.result, logLine);
  let switching = false;

  function renderSwitcher() {
    const { show, options } = accountChoices(store.accounts.accounts, store.status?.brokers, store.accounts.active_id);
    switcher.hidden = !show;
    if (!show) { switcher.replaceChildren(); return; }
    const key = JSON.stringify(options);
    if (switcher.dataset.key !== key) {
      switcher.dataset.key = key;
      switcher.replaceChildren(...options.map((o) => h('option', { value: o.id, selected: o.active }, o.label)));
    }
    switcher.value = options.find((o) => o.active)?.id ?? '';
    switcher.disabled = switching;
  }

  switcher.addEventListener('change', async () => {
    const target = switcher.value;
    const label = switcher.selectedOptions?.[0]?.textContent ?? target;
    if (!target || target === store.accounts.active_id) return;
    switching = true;
    switcher.disabled = true;
    switchResult.hidden = false;
    switchResult.dataset.tone = 'busy';
    switchResult.textContent = `Switching to ${label}…`;
    try {
      await client.request('accounts.activate', { account_id: target }, { timeoutMs: 30_000 });
      switchResult.hidden = true;
      switchResult.textContent = '';
    } catch (err) {
      switchResult.dataset.tone = 'error';
      switchResult.textContent = `Switching to ${label}: ${describeFailure(err).text}`;
    } finally {
      switching = false;
      await store.setActive();
      renderSwitcher();
    }
  });

  const empty = document.getElementById('trade-empty');
  const emptyDetail = h('span', { class: 'empty-detail', id: 'trade-empty-detail' });
  if (empty) empty.after(emptyDetail);
  let logTimer = null;
  let shownUnprotected = null;

  function render() {
    const acc = store.activeAccount;
    const known = lastKnown() && !store.activeBroker;
    const view = known
      ? { tone: 'offline', label: 'last known — not connected', detail: 'unlock to reconnect' }
      : tradeIndicator(client.status, store.activeBroker);
    strip.dataset.tone = view.tone;
    if (label.textContent !== view.label) label.textContent = view.label;
    account.textContent = acc
      ? `${acc.name}${acc.account_name ? ` · ${acc.account_name}` : ''} · ${acc.broker} ${acc.environment}`
      : '';
    detail.textContent = view.detail && view.tone !== 'live' ? view.detail : '';
    document.body.dataset.tradeTone = view.tone;
    renderUnprotected();
    renderLocked();
    renderEmpty();
    renderSwitcher();
  }

  function renderLocked() {
    const view = lockedView(store.status, store.positions, store.orders);
    locked.hidden = !view;
    document.body.dataset.locked = view ? (view.lastKnownMs ? 'last-known' : 'yes') : 'no';
    if (!view) return;
    locked.dataset.tone = view.tone;
    lockedText.textContent = view.text;
    lockedDetail.textContent = ` ${view.detail} `;
    // the red banner's own Unlock is the one action then; one button is enough
    unlock.hidden = Boolean(view.lastKnownMs) && !unprotected.hidden;
  }

  function renderUnprotected() {
    const rows = Array.isArray(store.status?.unprotected) ? store.status.unprotected : [];
    unprotected.hidden = rows.length === 0;
    document.body.dataset.unprotected = rows.length ? 'yes' : 'no';
    const labelOf = (id) => accountLabel(id, store.accounts.accounts, store.status?.brokers);
    const key = JSON.stringify([rows, rows.map((r) => labelOf(r.account_id))]);
    if (key === shownUnprotected) return; // unchanged: keep the buttons (and a focus on one)
    shownUnprotected = key;
    if (!rows.length) { unprotected.replaceChildren(); return; }
    // each row names its account: Flatten and Turn ASL on act on one account, and it may not be
    // the active one. One button per distinct fix and account (one Unlock resumes every position
    // the lock left bare, whatever its account).
    const fixes = new Map();
    for (const r of rows) {
      const f = { ...fixOf(r), account_id: r.account_id };
      const acts = fixActsOnAccount(f);
      fixes.set(acts ? `${f.reason}|${r.account_id}` : f.reason, { ...f, name: acts ? `${f.label} · ${labelOf(r.account_id)}` : f.label });
    }
    unprotected.replaceChildren(
      h('strong', {}, rows.length === 1 ? 'Unprotected position' : `${rows.length} unprotected positions`),
      ...rows.map((r) => h('span', { class: 'unprotected-row', dataset: { reason: r.reason, account: r.account_id } },
        `${labelOf(r.account_id)} — ${positionWords(r)}: ${r.fix}`)),
      h('div', { class: 'unprotected-fixes' }, ...[...fixes.values()].map((f) => h('button', {
        type: 'button', class: 'btn-small unprotected-fix', dataset: { reason: f.reason, account: f.account_id },
        onclick: () => fixOn(f),
      }, f.name))),
    );
  }

  /** A fix that acts on one account (Flatten, Turn ASL on, Reconnect) makes it the active one
   * first, so the control it focuses acts on that account; then the control is focused. */
  async function fixOn(fix) {
    if (fixActsOnAccount(fix) && fix.account_id && fix.account_id !== store.accounts.active_id) {
      const name = accountLabel(fix.account_id, store.accounts.accounts, store.status?.brokers);
      switchResult.hidden = false;
      switchResult.dataset.tone = 'busy';
      switchResult.textContent = `Switching to ${name}…`;
      try {
        await client.request('accounts.activate', { account_id: fix.account_id }, { timeoutMs: 30_000 });
        switchResult.hidden = true;
        switchResult.textContent = '';
      } catch (err) {
        switchResult.dataset.tone = 'error';
        switchResult.textContent = `Switching to ${name}: ${describeFailure(err).text}`;
        await store.setActive();
        // Flatten and Turn ASL on would act on another account: not focused. Reconnect's place
        // (Setup → Accounts) still is: that is where the connection's problem is fixed.
        if (fix.reason !== 'link_down') return;
      }
      await store.setActive();
    }
    requestFix(fix);
  }

  function renderEmpty() {
    if (!empty) return;
    const { accounts, active_id: activeId, error, loaded } = store.accounts;
    let text = 'No broker account yet — add one in Setup';
    let more = '';
    let show = true;
    if (lastKnown()) {
      show = false; // a host without the password: the journal's last known rows, marked as such
    } else if (error) {
      if (error.code === 'locked') {
        more = client.status.vault === 'absent' ? '' : 'The vault is locked: unlock it in Setup to trade.';
      } else if (error.code === 'unknown_type') {
        more = 'This Sidedesk host has no trading support yet (host too old): update it.';
      } else if (error.code !== 'disconnected') {
        more = `Could not list accounts [${error.code}]: ${error.message}`;
      }
    } else if (loaded && accounts.length && !activeId && !lastKnown()) {
      text = 'No active account — pick one in Setup';
    } else if (activeId) {
      show = false;
    }
    empty.textContent = text;
    empty.hidden = !show;
    emptyDetail.textContent = more;
    emptyDetail.hidden = !show || !more;
    document.body.dataset.trading = show ? 'off' : 'on';
  }

  function lastKnown() {
    return Boolean(lockedView(store.status, store.positions, store.orders)?.lastKnownMs);
  }

  /** The symbol a host sentence is about ("ASL BTCUSDT: …", "… 0.001 BTCUSDT at …"). */
  function infoIn(text) {
    for (const [sym, info] of store.symbols) if (text.includes(sym)) return info;
    return undefined;
  }

  function showLog(entry) {
    if (!entry || !entry.message) return;
    logLine.textContent = tidyNumbers(entry.message, infoIn(entry.message));
    logLine.dataset.level = entry.level ?? 'info';
    logLine.hidden = false;
    if (logTimer) clearTimeout(logTimer);
    logTimer = setTimeout(() => { logLine.hidden = true; }, entry.level === 'error' ? LOG_SHOW_MS * 4 : LOG_SHOW_MS);
  }

  store.on('host', render);
  store.on('status', render);
  store.on('accounts', render);
  store.on('log', showLog);
  store.on('positions', render); // last known rows change the strip, the lock line and the empty state
  store.on('orders', render);
  render();
}
