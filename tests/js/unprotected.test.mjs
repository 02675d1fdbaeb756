// The Trade tab's red banner for positions without a working managed stop (the host's
// `status.unprotected`, computed by core/unprotected.py): shown with the fix, gone when protected.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeClient, installDom, settle } from './dom_harness.mjs';

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
