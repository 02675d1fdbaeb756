// The Trade tab's DOM modules and trade_store.js under a small DOM (happy-dom): the ticket line
// follows its order to the fill, Flatten all runs once per double press, the minimised bar names
// what it sends, shows the last fill and a connection dot (issue #22).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BTC, FakeClient, installDom, settle, type } from './dom_harness.mjs';

const dom = installDom();
const { tradeStore, FLATTEN_COOLDOWN_MS } = await import('../../extension/sidepanel/trade_store.js');
const { mountTicket } = await import('../../extension/sidepanel/ticket.js');
const { mountActionBar, barButton } = await import('../../extension/sidepanel/actionbar.js');
const { mountTradeStatus } = await import('../../extension/sidepanel/tradestatus.js');
const { mountPositions } = await import('../../extension/sidepanel/positions.js');

test.after(() => dom.close());

const ACCOUNT = { id: 'acc', name: 'Sim main', broker: 'binance', environment: 'simulator', key_hint: null, state: 'live',
  detail: '', attempt: 0, next_retry_s: null, active: true };

function tradingHost(extra = {}) {
  const client = new FakeClient({
    'accounts.list': () => ({ accounts: [ACCOUNT], active_id: 'acc' }),
    'market.symbols': () => ({ symbols: [BTC] }),
    'market.watch': ({ symbols }) => ({ symbols }),
    ...extra,
  });
  return client;
}

async function connected(client) {
  const store = tradeStore(client);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 1, brokers: [{ account_id: 'acc', active: true, state: 'live' }] });
  await store.loadAccounts();
  await settle();
  return store;
}

function order(fields) {
  return { account_id: 'acc', symbol: 'BTCUSDT', order_id: '9', client_id: 'sdm-1', side: 'BUY', type: 'MARKET', status: 'NEW',
    previous_status: null, quantity: '0.005', filled: '0', avg_price: null, price: null, stop_price: null, conditional: false,
    reduce_only: false, reject_reason: null, update_time_ms: 1000, ...fields };
}

test('the store keeps the latest status the exchange reported per order, and the last fill', async () => {
  const client = tradingHost();
  const store = await connected(client);
  const seen = [];
  store.on('order', (o) => seen.push(o.status));
  client.push('log', { level: 'info', message: 'order 9 …', ts_ms: 1, order: order({}) });
  client.push('log', { level: 'info', message: 'order 9 …', ts_ms: 2, order: order({ status: 'FILLED', filled: '0.005', avg_price: '60093.50', update_time_ms: 1001 }) });
  client.push('log', { level: 'info', message: 'late', ts_ms: 3, order: order({ status: 'NEW', update_time_ms: 999 }) }); // stale
  assert.deepEqual(seen, ['NEW', 'FILLED']);
  assert.equal(store.orderReport('sdm-1').status, 'FILLED');
  assert.equal(store.lastFill.order.avg_price, '60093.50');
  // Plain log lines still reach the 'log' listeners; order reports do not.
  const logs = [];
  store.on('log', (e) => logs.push(e.message));
  client.push('log', { level: 'warning', message: 'ASL BTCUSDT: stop at 60230.9960000000', ts_ms: 4 });
  client.push('log', { level: 'info', message: 'x', ts_ms: 5, order: order({ client_id: 'sdm-2' }) });
  assert.deepEqual(logs, ['ASL BTCUSDT: stop at 60230.9960000000']);
});

test('a vault change reported in status reloads the account list, once per change', async () => {
  const client = tradingHost();
  const store = await connected(client);
  const before = client.count('accounts.list');
  client.push('status', { vault: 'unlocked', vault_rev: 2, settings_rev: 1, brokers: [{ account_id: 'acc', active: true }] });
  await settle();
  assert.equal(client.count('accounts.list'), before + 1);
  client.push('status', { vault: 'unlocked', vault_rev: 2, settings_rev: 1, brokers: [{ account_id: 'acc', active: true }] });
  await settle();
  assert.equal(client.count('accounts.list'), before + 1, 'nothing changed: no reload');
  assert.ok(store.accounts.loaded);
});

test('Flatten all: a double press sends one flatten; the answer is said in words', async () => {
  let release;
  const client = tradingHost({ flatten: () => new Promise((r) => { release = () => r({ cancelled: 2, closed: 1, errors: [] }); }) });
  const store = await connected(client);
  const root = dom.section('trade-status-1');
  mountTradeStatus(root, client);
  const button = root.querySelector('#trade-flatten');
  assert.equal(button.textContent, 'Flatten all');
  assert.equal(button.disabled, false);
  button.click();
  button.click(); // the double press
  await settle();
  assert.equal(button.disabled, true);
  assert.equal(client.count('flatten'), 1);
  release();
  await settle();
  assert.equal(root.querySelector('#trade-flatten-result').textContent, 'Flattened: 2 orders cancelled, 1 position closed');
  button.click(); // within the cooldown after the answer: still the same press
  await settle();
  assert.equal(client.count('flatten'), 1);
  store.flattenState = { ...store.flattenState, atMs: Date.now() - FLATTEN_COOLDOWN_MS - 1 };
  button.click();
  await settle();
  assert.equal(client.count('flatten'), 2, 'a later press flattens again');
});

test('the ticket line follows a NEW market order to its fill, on the tick, with the code-free words', async () => {
  const client = tradingHost({
    'order.place': () => ({ status: 'placed', client_id: 'sdm-7', order_id: '77', order_status: 'NEW', filled: '0', avg_price: null,
      quantity: '0.005', price: null, host_us: 40, roundtrip_ms: 1.5, message: 'BUY 0.005 BTCUSDT market: new' }),
  });
  const store = await connected(client);
  const root = dom.section('ticket-1');
  mountTicket(root, client);
  await settle();
  await settle();
  const symbol = root.querySelector('[name="symbol"]');
  assert.equal(symbol.value, 'BTCUSDT');
  type(root.querySelector('[name="notional"]'), '300');
  root.querySelector('#ticket-buy').click();
  await settle();
  const line = root.querySelector('#ticket-result');
  assert.equal(line.textContent, 'Buy 0.005 BTC at market sent — waiting for the fill');
  assert.match(root.querySelector('#ticket-result-detail').textContent, /^order 77 · host 40 µs/);
  client.push('log', { level: 'info', message: '…', ts_ms: 1, order: order({ client_id: 'sdm-7', status: 'FILLED', filled: '0.005', avg_price: '60093.456' }) });
  assert.equal(line.textContent, 'Bought 0.005 BTC at 60,093.5 USDT');
  assert.equal(store.ticketResult.text, 'Bought 0.005 BTC at 60,093.5 USDT');
});

test('the ticket says a refusal in words, with the code and the host sentence as detail', async () => {
  const client = tradingHost({
    'order.place': () => {
      const err = new Error('1 USDT buys less than the minimum quantity 0.001 BTCUSDT at 64223.40000000; use at least 64.23 USDT');
      err.code = 'invalid';
      err.details = { field: 'notional', corrected: '64.23' };
      throw err;
    },
  });
  await connected(client);
  const root = dom.section('ticket-2');
  mountTicket(root, client);
  await settle();
  type(root.querySelector('[name="notional"]'), '1');
  root.querySelector('#ticket-sell').click();
  await settle();
  assert.equal(root.querySelector('#ticket-result').textContent, 'Refused: below the minimum 0.001 BTC — use 64.23 USDT');
  assert.equal(root.querySelector('#ticket-result-detail').textContent,
    'invalid · 1 USDT buys less than the minimum quantity 0.001 BTC at 64,223.4; use at least 64.23 USDT');
});

test('the minimised bar names what BUY and SELL send, shows the last fill, and its dot follows the link', async () => {
  const client = tradingHost();
  const store = await connected(client);
  dom.section('minimise-toggle', 'button');
  const root = dom.section('actionbar', 'div');
  mountActionBar(root, client);
  store.setTicketView({ symbol: 'BTCUSDT', sizeText: '300 USDT', ok: true });
  const buy = root.querySelector('#bar-buy');
  assert.match(buy.textContent, /BUY.*BTCUSDT.*300 USDT/s);
  assert.equal(buy.getAttribute('aria-label'), 'Buy 300 USDT of BTCUSDT');
  assert.equal(root.querySelector('#bar-sell').getAttribute('aria-label'), 'Sell 300 USDT of BTCUSDT');
  assert.ok(root.querySelector('#bar-flatten'), 'Flatten all on the bar too');
  // The ticket's answer reaches the bar's screen-reader line, and so does each later status.
  store.setTicketResult('Buying 300 USDT of BTCUSDT…', 'busy');
  assert.equal(root.querySelector('#bar-result').textContent, 'Buying 300 USDT of BTCUSDT…');
  client.push('log', { level: 'info', message: '…', ts_ms: 1, order: order({ client_id: 'sdm-9', status: 'FILLED', filled: '0.005', avg_price: '60093.5' }) });
  const fill = root.querySelector('#bar-fill');
  assert.equal(fill.hidden, false);
  assert.equal(fill.textContent, 'Bought 0.005 BTC at 60,093.5 USDT');
  assert.equal(root.querySelector('#bar-pnl').hidden, true);
  assert.equal(root.querySelector('#bar-result').textContent, 'Bought 0.005 BTC at 60,093.5 USDT');
  // The connection dot: green, amber while the broker reconnects, red/amber when the host is gone.
  const dot = root.querySelector('#bar-dot');
  assert.equal(dot.dataset.tone, 'live');
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 1, brokers: [{ account_id: 'acc', active: true, state: 'degraded', attempt: 2 }] });
  assert.equal(dot.dataset.tone, 'reconnecting');
  assert.match(dot.getAttribute('aria-label'), /reconnecting \(attempt 2\)/);
  client.setStatus({ state: 'reconnecting', attempt: 1 });
  assert.equal(dot.dataset.tone, 'reconnecting');
  client.setStatus({ state: 'error', attempt: 0 });
  assert.equal(dot.dataset.tone, 'offline');
  assert.deepEqual(barButton('SELL', null), { symbol: 'no ticket', size: '', label: 'SELL: set up the ticket first' });
});

test('positions show prices on the tick and sizes on the step with their unit', async () => {
  const client = tradingHost();
  const store = await connected(client);
  const root = dom.section('positions-1');
  mountPositions(root, client);
  client.push('positions', {
    positions: [{ id: 'acc|BTCUSDT|BOTH', account_id: 'acc', symbol: 'BTCUSDT', position_side: 'BOTH', side: 'LONG', size: '0.005',
      entry: '60093.45000000', mark: '60100.1', unrealized_pnl: '0.033', roe_pct: '0.11', liquidation_price: '0',
      asl_level: '2', stop_price: '60230.9960000000', asl_next_threshold: '61000.04', leverage: 5 }],
    totals: [{ asset: 'USDT', unrealized_pnl: '0.033' }],
  });
  const row = root.querySelector('tbody.pos');
  assert.equal(row.querySelector('.pos-size').textContent, '0.005 BTC');
  assert.match(row.textContent, /60,093\.5/);
  assert.match(row.textContent, /stop 60,231\.0 · next 61,000\.0/);
  assert.doesNotMatch(row.textContent, /60230\.996|0000000/);
  assert.ok(store.positions.positions.length === 1);
});

test('a position opened on an empty table is announced, not replaced by the P&L pushed right after it', async () => {
  const client = tradingHost();
  await connected(client);
  const root = dom.section('positions-2');
  mountPositions(root, client);
  client.push('positions', { positions: [], totals: [] }, { snapshot: true });
  const eth = (mark, pnl) => ({
    positions: [{ id: 'acc|ETHUSDT|BOTH', account_id: 'acc', symbol: 'ETHUSDT', position_side: 'BOTH', side: 'SHORT', size: '0.5',
      quantity: '-0.5', entry: '2998.04', mark, unrealized_pnl: pnl, roe_pct: '0', liquidation_price: '0', leverage: 5 }],
    totals: [{ asset: 'USDT', unrealized_pnl: pnl }],
  });
  // The opening and the next mark's push, within one frame (the host sends them milliseconds apart).
  client.push('positions', eth('2998.33', '-0.145'));
  client.push('positions', eth('2997.56', '0.24'));
  await settle(20);
  assert.match(root.querySelector('#pnl-announce').textContent, /^Opened SHORT ETHUSDT 0\.5/);
});

test('an accounts listing answered late (started while locked) does not replace the newer one', async () => {
  let releaseOld;
  let calls = 0;
  const client = tradingHost({
    'accounts.list': () => {
      calls += 1;
      if (calls === 1) return new Promise((_, reject) => { releaseOld = () => reject(Object.assign(new Error('locked'), { code: 'locked', message: 'unlock the vault first' })); });
      return { accounts: [ACCOUNT], active_id: 'acc' };
    },
  });
  const store = tradeStore(client);
  const first = store.loadAccounts(); // while locked: answered late
  await store.loadAccounts(); // after the unlock
  releaseOld();
  await first;
  assert.equal(store.accounts.error, null);
  assert.deepEqual(store.accounts.accounts.map((a) => a.id), ['acc']);
});
