// Issue #21, the true stop: a native trailing stop's level is computed by the host (Binance does
// not report where it has moved), so the positions table and the chart mark it "≈"; a stop the
// venue holds at its own price (a fixed stop, or one Sidedesk moves itself) shows no "≈".
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { BTC, FakeClient, installDom, settle } from './dom_harness.mjs';

const dom = installDom();
const { tradeStore } = await import('../../extension/sidepanel/trade_store.js');
const { mountPositions } = await import('../../extension/sidepanel/positions.js');
const { mountChart } = await import('../../extension/sidepanel/chart.js');
const { chartLines, positionRow } = await import('../../extension/sidepanel/trade_view.js');

test.after(() => dom.close());

const ACCOUNT = { id: 'acc', name: 'Sim main', broker: 'binance', environment: 'simulator', key_hint: null, state: 'live',
  detail: '', attempt: 0, next_retry_s: null, active: true };

function host() {
  return new FakeClient({
    'accounts.list': () => ({ accounts: [ACCOUNT], active_id: 'acc' }),
    'market.symbols': () => ({ symbols: [BTC] }),
    'market.watch': ({ symbols }) => ({ symbols }),
  });
}

async function connected(client) {
  const store = tradeStore(client);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 1, brokers: [{ account_id: 'acc', active: true, state: 'live' }] });
  await store.loadAccounts();
  await settle();
  return store;
}

const ROW = { id: 'acc|BTCUSDT|BOTH', account_id: 'acc', symbol: 'BTCUSDT', position_side: 'BOTH', side: 'LONG', size: '0.01',
  entry: '60000', mark: '64304', unrealized_pnl: '43.04', roe_pct: '35.87', liquidation_price: '0', leverage: 5,
  asl_level: '3', stop_price: '63660.9', stop_estimated: true, asl_next_threshold: null };

function positions(client, row) {
  client.push('positions', { positions: [row], totals: [{ asset: 'USDT', unrealized_pnl: row.unrealized_pnl }] });
}

test('the positions table marks a Binance trailing stop "≈" and a fixed stop not', async () => {
  const client = host();
  await connected(client);
  const root = dom.section('positions-trailing');
  mountPositions(root, client);
  positions(client, ROW);
  const stop = () => root.querySelector('tbody.pos .pos-main td:nth-child(5) .mono');
  assert.equal(stop().textContent, 'stop ≈ 63,660.9');
  assert.equal(stop().dataset.approx, 'true');
  assert.match(stop().title, /exchange does not report it/);
  // the hard stop (a fixed stop: its own price) and a software-trailed stop carry no "≈"
  positions(client, { ...ROW, asl_level: 'hard', stop_price: '58800', stop_estimated: false, asl_next_threshold: '60600' });
  assert.equal(stop().textContent, 'stop 58,800.0 · next 60,600.0');
  assert.equal(stop().dataset.approx, 'false');
  assert.equal(stop().title, '');
  // a host without the field (older) shows the figure as before
  const { stop_estimated: _, ...old } = ROW;
  positions(client, old);
  assert.equal(stop().textContent, 'stop 63,660.9');
});

test('the chart labels the trailing stop line "stop ≈" and its legend "≈ price"', async () => {
  const client = host();
  const store = await connected(client);
  const root = dom.section('chart-trailing');
  positions(client, ROW);
  store.select(ROW);
  mountChart(root, client);
  await settle();
  const legend = root.querySelector('#chart-legend').textContent;
  assert.match(legend, /stop \(level 3\) ≈ 63,660\.9/);
  assert.match(legend, /^entry 60,000\.0/);
  positions(client, { ...ROW, asl_level: '1', stop_price: '62000', stop_estimated: false });
  await settle();
  assert.match(root.querySelector('#chart-legend').textContent, /stop \(level 1\) 62,000\.0/);
  assert.doesNotMatch(root.querySelector('#chart-legend').textContent, /≈/);
});

test('chartLines and positionRow carry the estimate flag from the row, else from the asl event', () => {
  const info = new Map([['BTCUSDT', BTC]]);
  assert.equal(positionRow(ROW, info).stopApprox, true);
  assert.equal(positionRow({ ...ROW, stop_estimated: false }, info).stopApprox, false);
  assert.equal(positionRow({ ...ROW, stop_price: null }, info).stopApprox, false);
  const [, stop] = chartLines(ROW, null);
  assert.deepEqual([stop.key, stop.value, stop.approx], ['stop', '63660.9', true]);
  const fromEvent = chartLines({ ...ROW, stop_price: null, stop_estimated: false }, { stop_price: '63650.1', stop_estimated: true });
  assert.deepEqual(fromEvent.filter((l) => l.key === 'stop').map((l) => [l.value, l.approx]), [['63650.1', true]]);
});
