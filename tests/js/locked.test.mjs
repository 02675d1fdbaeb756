// The Trade tab while the vault is locked (issue #20): the desk keeps showing the account, its
// positions and orders with "Locked — unlock to trade"; a host started without the password shows
// the journal's last known rows, marked, with "unlock to resume protection"; the red banner and
// the minimised bar carry the one action that fixes an unprotected position.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BTC, FakeClient, hostError, installDom, settle } from './dom_harness.mjs';

const dom = installDom();
const { tradeStore } = await import('../../extension/sidepanel/trade_store.js');
const { mountTradeStatus } = await import('../../extension/sidepanel/tradestatus.js');
const { mountPositions } = await import('../../extension/sidepanel/positions.js');
const { mountActionBar, barAlert } = await import('../../extension/sidepanel/actionbar.js');
const { lockedView, LOCKED_TO_TRADE } = await import('../../extension/sidepanel/trade_view.js');
const { failureText } = await import('../../extension/sidepanel/words.js');

test.after(() => dom.close());

const ACCOUNT = { id: 'acc', name: 'Sim main', broker: 'binance', environment: 'simulator', key_hint: null, state: 'live',
  detail: '', attempt: 0, next_retry_s: null, active: true };
const LIVE = { vault_rev: 2, settings_rev: 1, brokers: [{ account_id: 'acc', active: true, state: 'live' }], unprotected: [] };
const POSITION = { id: 'acc|BTCUSDT|BOTH', account_id: 'acc', symbol: 'BTCUSDT', position_side: 'BOTH', side: 'LONG', size: '0.010',
  entry: '60000.0', mark: '60100.0', unrealized_pnl: '1.00', roe_pct: '0.17', asl_level: 'hard', stop_price: '58800.0' };
const UNPROTECTED = { account_id: 'acc', symbol: 'BTCUSDT', position_side: 'BOTH', quantity: '0.010', reason: 'locked',
  fix: 'unlock to resume protection' };

function fresh(id) {
  document.body.replaceChildren();
  delete document.body.dataset.trading;
  const empty = document.createElement('p');
  empty.id = 'trade-empty';
  document.body.append(empty);
  return dom.section(id);
}

test('lockedView: nothing while unlocked; what still works while locked; last known rows', () => {
  assert.equal(lockedView({ vault: 'unlocked' }, {}, {}), null);
  const live = lockedView({ vault: 'locked' }, { positions: [POSITION] }, { orders: [] });
  assert.equal(live.text, LOCKED_TO_TRADE);
  assert.match(live.detail, /close, flatten and cancel still work/);
  assert.equal(live.lastKnownMs, null);
  const strict = lockedView({ vault: 'locked', require_unlock_to_reduce: true }, { positions: [] }, { orders: [] });
  assert.match(strict.detail, /closing, flattening and cancelling need an unlock too/);
  const known = lockedView({ vault: 'locked' }, { positions: [{ ...POSITION, last_known_ms: 5000 }] }, { orders: [] }, (ms) => `t${ms}`);
  assert.equal(known.text, 'Locked — unlock to resume protection');
  assert.match(known.detail, /as of t5000/);
  assert.equal(known.lastKnownMs, 5000);
  // the host's refusal is said as it is, not as "Vault locked: Locked — …"
  assert.equal(failureText({ code: 'locked', message: LOCKED_TO_TRADE }).text, LOCKED_TO_TRADE);
  assert.equal(failureText({ code: 'locked', message: 'unlock the vault first' }).text, 'Vault locked: unlock the vault first');
});

test('locked with a live account: the Trade tab stays on, says so, and Unlock leads to the password', async () => {
  const client = new FakeClient({
    'accounts.list': () => ({ accounts: [ACCOUNT], active_id: 'acc' }),
    'market.symbols': () => ({ symbols: [BTC] }),
    'market.watch': ({ symbols }) => ({ symbols }),
  });
  const store = tradeStore(client);
  const root = fresh('trade-status-locked');
  mountTradeStatus(root, client);
  mountPositions(dom.section('positions-locked'), client);
  client.push('status', { ...LIVE, vault: 'unlocked' });
  await store.loadAccounts();
  client.push('positions', { positions: [POSITION], totals: [] });
  await settle();
  const line = root.querySelector('#trade-locked');
  assert.equal(line.hidden, true);
  client.push('status', { ...LIVE, vault: 'locked', vault_rev: 3 });
  await settle();
  assert.equal(line.hidden, false);
  assert.equal(root.querySelector('#trade-locked-text').textContent, LOCKED_TO_TRADE);
  assert.equal(document.body.dataset.trading, 'on'); // the account is still active: nothing hidden
  assert.equal(document.getElementById('trade-empty').hidden, true);
  assert.equal(document.querySelectorAll('#positions-body tbody.pos, .pos-table tbody.pos').length, 1);
  const asked = [];
  document.addEventListener('sidedesk-fix', (e) => asked.push(e.detail));
  root.querySelector('#trade-unlock').click();
  assert.deepEqual(asked.at(-1), { tab: 'setup', focus: 'vault', reason: 'locked' });
  client.push('status', { ...LIVE, vault: 'unlocked', vault_rev: 4 });
  await settle();
  assert.equal(line.hidden, true);
});

test('a host without the password: the last known rows are shown, marked, Unprotected with Unlock', async () => {
  const client = new FakeClient({ 'accounts.list': () => { throw hostError('locked', 'unlock the vault first'); } });
  const store = tradeStore(client);
  const root = fresh('trade-status-last-known');
  mountTradeStatus(root, client);
  mountPositions(dom.section('positions-last-known'), client);
  client.push('status', { vault: 'locked', vault_rev: 0, settings_rev: 0, brokers: [], unprotected: [UNPROTECTED] });
  await store.loadAccounts();
  client.push('positions', { positions: [{ ...POSITION, asl_level: null, stop_price: null, last_known_ms: Date.now() }], totals: [] });
  await settle();
  assert.equal(document.body.dataset.trading, 'on');
  assert.equal(document.getElementById('trade-empty').hidden, true);
  assert.equal(root.querySelector('#trade-locked-text').textContent, 'Locked — unlock to resume protection');
  assert.equal(document.body.dataset.locked, 'last-known');
  assert.equal(root.querySelector('#trade-live-label').textContent, 'last known — not connected');
  assert.equal(root.querySelector('#trade-unlock').hidden, true); // the banner's Unlock is the one action
  const row = document.querySelector('tbody.pos[data-key="BTCUSDT:BOTH"]');
  assert.equal(row.dataset.lastKnown, 'true');
  assert.match(row.textContent, /last known/);
  const banner = root.querySelector('#trade-unprotected');
  assert.equal(banner.hidden, false);
  assert.match(banner.textContent, /BTCUSDT 0\.010: unlock to resume protection/);
  const fixes = [...banner.querySelectorAll('button.unprotected-fix')].map((b) => b.textContent);
  assert.deepEqual(fixes, ['Unlock']);
  const asked = [];
  document.addEventListener('sidedesk-fix', (e) => asked.push(e.detail));
  banner.querySelector('button.unprotected-fix').click();
  assert.deepEqual(asked.at(-1), { tab: 'setup', focus: 'vault', reason: 'locked' });
});

test('the minimised bar: red while a position is unprotected, amber while locked, clear otherwise', async () => {
  assert.equal(barAlert({ vault: 'unlocked', unprotected: [] }, {}, {}), null);
  assert.deepEqual(barAlert({ vault: 'locked', unprotected: [] }, {}, {}).text, LOCKED_TO_TRADE);
  const two = barAlert({ vault: 'unlocked', unprotected: [{ ...UNPROTECTED, reason: 'asl_off', fix: 'turn ASL on for it' }, { ...UNPROTECTED, symbol: 'ETHUSDT' }] }, {}, {});
  assert.equal(two.tone, 'error');
  assert.equal(two.text, 'Unprotected: BTCUSDT 0.010 +1 — Turn ASL on');
  assert.equal(two.fix.focus, 'asl');

  const client = new FakeClient({ 'accounts.list': () => ({ accounts: [ACCOUNT], active_id: 'acc' }), 'market.symbols': () => ({ symbols: [BTC] }) });
  const store = tradeStore(client);
  document.body.replaceChildren();
  const root = dom.section('actionbar-alert');
  mountActionBar(root, client);
  client.push('status', { ...LIVE, vault: 'unlocked', unprotected: [UNPROTECTED] });
  await store.loadAccounts();
  await settle();
  const alertLine = root.querySelector('#bar-alert');
  assert.equal(alertLine.hidden, false);
  assert.equal(alertLine.dataset.tone, 'error');
  assert.match(alertLine.textContent, /Unprotected: BTCUSDT 0\.010 — Unlock/);
  const asked = [];
  document.addEventListener('sidedesk-fix', (e) => asked.push(e.detail));
  alertLine.click();
  assert.equal(document.body.dataset.minimised, 'false'); // the full panel comes back on the fix
  assert.equal(asked.at(-1).focus, 'vault');
  client.push('status', { ...LIVE, vault: 'unlocked', unprotected: [] });
  await settle();
  assert.equal(alertLine.hidden, true);
});

// The panel lists the accounts as soon as it reaches the host; an unlock in that same second (the
// headless demo types the password at once) made the first status already say "unlocked", which
// counted as no change, so the list kept "Unlock the vault to see your accounts." for good.
test('a listing refused as locked that the first status already contradicts is asked again', async () => {
  let locked = true;
  const client = new FakeClient({
    'accounts.list': () => {
      if (locked) throw hostError('locked', 'unlock the vault first');
      return { accounts: [ACCOUNT], active_id: 'acc' };
    },
    'market.symbols': () => ({ symbols: [BTC] }),
  });
  const store = tradeStore(client); // connected: the first listing goes out now, refused
  await settle();
  assert.equal(store.accounts.error?.code, 'locked');
  locked = false;
  client.push('status', { ...LIVE, vault: 'unlocked' }); // the panel's first status
  await settle();
  assert.equal(store.accounts.error, null);
  assert.deepEqual(store.accounts.accounts.map((a) => a.id), ['acc']);
});

test('a listing asked while locked and answered after the unlock is asked again', async () => {
  let answer;
  const client = new FakeClient({
    'accounts.list': () => (answer ? answer() : new Promise((_, reject) => {
      answer = () => ({ accounts: [ACCOUNT], active_id: 'acc' });
      client.refuse = () => reject(hostError('locked', 'unlock the vault first'));
    })),
    'market.symbols': () => ({ symbols: [BTC] }),
  });
  const store = tradeStore(client); // connected: the first listing goes out while locked...
  client.push('status', { ...LIVE, vault: 'unlocked' }); // ...the vault opens meanwhile...
  client.refuse(); // ...and the refusal arrives after it
  await settle();
  assert.equal(client.count('accounts.list'), 2);
  assert.equal(store.accounts.error, null);
  assert.deepEqual(store.accounts.accounts.map((a) => a.id), ['acc']);
});
