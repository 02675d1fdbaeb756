// The Trade tab's red banner for positions without a working managed stop (the host's
// `status.unprotected`, computed by core/unprotected.py): shown with the fix, gone when protected.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeClient, hostError, installDom, settle } from './dom_harness.mjs';

const dom = installDom();
const { tradeStore } = await import('../../extension/sidepanel/trade_store.js');
const { mountTradeStatus } = await import('../../extension/sidepanel/tradestatus.js');

test.after(() => dom.close());

const ACCOUNT = { id: 'acc', name: 'Sim main', broker: 'binance', environment: 'simulator', key_hint: null, state: 'live',
  detail: '', attempt: 0, next_retry_s: null, active: true };

test('the banner lists each unprotected position with its fix, and hides when all are protected', async () => {
  const client = new FakeClient({ 'accounts.list': () => ({ accounts: [ACCOUNT], active_id: 'acc' }) });
  const store = tradeStore(client);
  const root = dom.section('trade-status-unprotected');
  mountTradeStatus(root, client);
  const base = { vault: 'unlocked', vault_rev: 1, settings_rev: 1, brokers: [{ account_id: 'acc', active: true, state: 'live' }] };
  client.push('status', { ...base, unprotected: [] });
  await store.loadAccounts();
  await settle();
  const banner = root.querySelector('#trade-unprotected');
  assert.equal(banner.hidden, true);
  client.push('status', { ...base, unprotected: [
    { account_id: 'acc', symbol: 'ETHUSDT', position_side: 'BOTH', quantity: '0.1', reason: 'asl_off', fix: 'turn ASL on for it' },
    { account_id: 'acc', symbol: 'BTCUSDT', position_side: 'LONG', quantity: '0.01', reason: 'link_down', fix: 'reconnect the account' },
  ] });
  await settle();
  assert.equal(banner.hidden, false);
  assert.equal(banner.getAttribute('role'), 'alert');
  assert.match(banner.textContent, /2 unprotected positions/);
  assert.match(banner.textContent, /ETHUSDT 0\.1: turn ASL on for it/);
  assert.match(banner.textContent, /BTCUSDT LONG 0\.01: reconnect the account/);
  assert.equal(document.body.dataset.unprotected, 'yes');
  client.push('status', { ...base, unprotected: [] });
  await settle();
  assert.equal(banner.hidden, true);
  assert.equal(document.body.dataset.unprotected, 'no');
});

test('each row names its account; a fix on another account makes it active first, then focuses', async () => {
  const accounts = [
    { ...ACCOUNT, id: 'e1:700001', name: 'Apex', account_name: 'DEMO700001', broker: 'tradovate', active: true },
    { ...ACCOUNT, id: 'e1:700002', name: 'Apex', account_name: 'DEMO700002', broker: 'tradovate', active: false },
  ];
  let active = 'e1:700001';
  const order = [];
  const client = new FakeClient({
    'accounts.list': () => ({ accounts: accounts.map((a) => ({ ...a, active: a.id === active })), active_id: active }),
    'accounts.activate': ({ account_id: id }) => { order.push(`activate ${id}`); active = id; return { ...accounts[1], active: true }; },
  });
  const store = tradeStore(client);
  const root = dom.section('trade-status-unprotected-accounts');
  mountTradeStatus(root, client);
  const brokers = accounts.map((a) => ({ account_id: a.id, account_name: a.account_name, active: a.id === active, state: 'live' }));
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 1, brokers, unprotected: [
    { account_id: 'e1:700002', symbol: 'MESZ6', position_side: 'BOTH', quantity: '1', reason: 'stop_missing', fix: 'flatten it' },
    { account_id: 'e1:700001', symbol: 'MESZ6', position_side: 'BOTH', quantity: '2', reason: 'asl_off', fix: 'turn ASL on for it' },
  ] });
  await store.loadAccounts();
  await settle();
  const banner = root.querySelector('#trade-unprotected');
  const rows = [...banner.querySelectorAll('.unprotected-row')].map((r) => r.textContent);
  assert.deepEqual(rows, [
    'Apex · DEMO700002 — MESZ6 1: flatten it',
    'Apex · DEMO700001 — MESZ6 2: turn ASL on for it',
  ]);
  const buttons = [...banner.querySelectorAll('button.unprotected-fix')];
  assert.deepEqual(buttons.map((b) => b.textContent), ['Flatten · Apex · DEMO700002', 'Turn ASL on · Apex · DEMO700001']);
  const asked = [];
  const listener = (e) => { order.push(`focus ${e.detail.focus}`); asked.push(e.detail); };
  document.addEventListener('sidedesk-fix', listener);
  try {
    // Flatten acts on the active account: the non-active one's row makes it active first
    buttons[0].click();
    await settle();
    assert.deepEqual(order, ['activate e1:700002', 'focus flatten']);
    assert.equal(store.accounts.active_id, 'e1:700002');
    // the active account's fix: no switch
    order.length = 0;
    client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 1, brokers, unprotected: [
      { account_id: 'e1:700002', symbol: 'MESZ6', position_side: 'BOTH', quantity: '1', reason: 'asl_off', fix: 'turn ASL on for it' },
    ] });
    await settle();
    banner.querySelector('button.unprotected-fix').click();
    await settle();
    assert.deepEqual(order, ['focus asl']);
  } finally {
    document.removeEventListener('sidedesk-fix', listener);
  }
});

test('a switch the host refuses says so and focuses nothing that would act on the wrong account', async () => {
  const client = new FakeClient({
    'accounts.list': () => ({ accounts: [{ ...ACCOUNT, id: 'a', name: 'Main' }, { ...ACCOUNT, id: 'b', name: 'Other', active: false }], active_id: 'a' }),
    'accounts.activate': () => { throw hostError('locked', 'unlock the vault first to connect another account'); },
  });
  const store = tradeStore(client);
  const root = dom.section('trade-status-unprotected-refused');
  mountTradeStatus(root, client);
  client.push('status', { vault: 'locked', vault_rev: 1, settings_rev: 1, brokers: [], unprotected: [
    { account_id: 'b', symbol: 'BTCUSDT', position_side: 'BOTH', quantity: '0.01', reason: 'stop_missing', fix: 'flatten it' },
  ] });
  await store.loadAccounts();
  await settle();
  const asked = [];
  const listener = (e) => asked.push(e.detail);
  document.addEventListener('sidedesk-fix', listener);
  try {
    root.querySelector('button.unprotected-fix').click();
    await settle();
    assert.deepEqual(asked, []);
    assert.match(root.querySelector('#trade-account-result').textContent, /Switching to Other: .*unlock the vault first/);
  } finally {
    document.removeEventListener('sidedesk-fix', listener);
  }
});
