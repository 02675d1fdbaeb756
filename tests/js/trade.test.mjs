// Pure modules of the Trade tab: decimals, the ticket, freshness, P&L flashes and announcements,
// table rows, chart series, Setup form validation, hotkey requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { cmpDecimal, decimalsOf, fmtDecimal, isDecimal, isPositiveDecimal, signOf } from '../../extension/sidepanel/num.js';
import {
  buildTicket, correctedFormField, describeFailure, describePlaced, formFromTicket, latencyParts, placeRequest,
} from '../../extension/sidepanel/ticket_form.js';
import {
  PnlAnnouncer, ageView, pnlDirection, positionChanges, priceBadge, sectionAgeS, tradeIndicator,
} from '../../extension/sidepanel/live.js';
import {
  CHART_MAX_POINTS, accountRows, addPoint, aslLabel, aslNote, chartLines, orderKind, orderRow, positionRow, sortOrders, totalPnl,
} from '../../extension/sidepanel/trade_view.js';
import { aslForm, buildAslProfile, buildRiskLimits, riskForm } from '../../extension/sidepanel/profiles.js';
import { commandRequest, describeOutcome } from '../../extension/lib/commands.js';

// -- num -------------------------------------------------------------------------------------------
test('decimal strings compare exactly, beyond float precision', () => {
  assert.equal(cmpDecimal('0.1', '0.10'), 0);
  assert.equal(cmpDecimal('-1.5', '-1.25'), -1);
  assert.equal(cmpDecimal('100000000000000000.01', '100000000000000000.02'), -1);
  assert.equal(cmpDecimal('2', '10'), -1);
  assert.equal(cmpDecimal('abc', '1'), null);
  assert.equal(cmpDecimal('1e5', '1'), null, 'exponents are not decimals here');
  assert.equal(signOf('-0.00'), 0);
  assert.equal(signOf('0.0001'), 1);
});

test('decimals format with grouping, exact half-up rounding and a real minus sign', () => {
  assert.equal(fmtDecimal('65000.1', 2), '65,000.10');
  assert.equal(fmtDecimal('-1234.565', 2), '−1,234.57');
  assert.equal(fmtDecimal('0.005', 2), '0.01');
  assert.equal(fmtDecimal('-0.004', 2), '0.00', 'a value that rounds to zero has no sign');
  assert.equal(fmtDecimal('12.5', 2, { sign: true }), '+12.50');
  assert.equal(fmtDecimal('999.995', 2), '1,000.00');
  assert.equal(fmtDecimal('0.00012'), '0.00012');
  assert.equal(fmtDecimal(null), '—');
  assert.equal(fmtDecimal('NaN'), '—');
  assert.equal(decimalsOf('0.10'), 1);
  assert.equal(decimalsOf('0.001'), 3);
  assert.equal(decimalsOf('1'), 0);
  assert.ok(isDecimal(' 1.5 '));
  assert.ok(!isPositiveDecimal('0'));
  assert.ok(!isPositiveDecimal('0.000'));
  assert.ok(isPositiveDecimal('0.001'));
  assert.ok(!isPositiveDecimal('-1'));
  assert.ok(!isPositiveDecimal('1,5'));
});

// -- ticket ----------------------------------------------------------------------------------------
const FORM = { symbol: 'btcusdt', notional: '250', leverage: '10', type: 'MARKET', price: '64000', post_only: true, reduce_only: false, asl: true };

test('a market ticket maps to the host contract: notional in quote currency, no price, no post-only', () => {
  const { ticket, errors } = buildTicket(FORM, { symbols: ['BTCUSDT', 'ETHUSDT'] });
  assert.deepEqual(errors, []);
  assert.deepEqual(ticket, {
    symbol: 'BTCUSDT', type: 'MARKET', notional: '250', post_only: false, ioc: false, reduce_only: false, asl: true, leverage: 10,
  });
  assert.deepEqual(placeRequest(ticket, 'SELL'), { ticket: { ...ticket, side: 'SELL' }, source: 'panel', confirmed: false });
  assert.deepEqual(placeRequest(ticket, 'BUY', { confirmed: true }).confirmed, true);
  assert.throws(() => placeRequest(ticket, 'HOLD'), /BUY or SELL/);
});

test('a limit ticket carries its price and post-only; empty leverage is left to the account', () => {
  const { ticket } = buildTicket({ ...FORM, type: 'LIMIT', leverage: '' });
  assert.equal(ticket.price, '64000');
  assert.equal(ticket.post_only, true);
  assert.ok(!('leverage' in ticket));
});

test('bad ticket input names each field to fix and builds nothing', () => {
  const { ticket, errors } = buildTicket({ symbol: '', notional: '0', leverage: '200', type: 'LIMIT', price: 'abc' });
  assert.equal(ticket, null);
  assert.deepEqual(errors.map((e) => e.field).sort(), ['leverage', 'notional', 'price', 'symbol']);
  const unknown = buildTicket({ ...FORM, symbol: 'DOGEUSDT' }, { symbols: ['BTCUSDT'] });
  assert.match(unknown.errors[0].message, /DOGEUSDT is not traded/);
  assert.equal(buildTicket({ ...FORM, notional: '-5' }).errors[0].field, 'notional');
  assert.equal(buildTicket({ ...FORM, leverage: '2.5' }).errors[0].field, 'leverage');
  assert.equal(buildTicket({ ...FORM, type: 'STOP' }).errors[0].field, 'type');
});

test('a stored ticket comes back into the form, with defaults for what is missing', () => {
  const { ticket } = buildTicket({ ...FORM, type: 'LIMIT' });
  const form = formFromTicket(ticket);
  assert.equal(form.symbol, 'BTCUSDT');
  assert.equal(form.leverage, '10');
  assert.equal(form.type, 'LIMIT');
  assert.deepEqual(buildTicket(form).ticket, ticket, 'round trip');
  assert.equal(formFromTicket(null).asl, true);
  assert.equal(formFromTicket({ asl: false }).asl, false);
});

test('the result line says what the exchange answered in words, with the order id and latencies as detail', () => {
  const btc = { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick_size: '0.10', step_size: '0.001', quantity_unit: 'base' };
  const v = describePlaced(
    { status: 'placed', order_status: 'FILLED', filled: '0.004', avg_price: '65000.1', order_id: '42', host_us: 37.6, roundtrip_ms: 1.234 },
    { side: 'BUY', info: btc, panelMs: 4.5 },
  );
  assert.equal(v.tone, 'ok');
  assert.equal(v.text, 'Bought 0.004 BTC at 65,000.1 USDT');
  assert.equal(v.detail, 'order 42 · host 38 µs · round trip 1.23 ms · panel 4.50 ms');
  // A market order acknowledged as NEW is not reported as done: the fill follows.
  const sent = describePlaced({ order_status: 'NEW', order_id: '8', quantity: '0.004', filled: '0', host_us: 9 }, { side: 'BUY', info: btc });
  assert.equal(sent.text, 'Buy 0.004 BTC at market sent — waiting for the fill');
  assert.equal(sent.detail, 'order 8 · host 9 µs');
  const resting = describePlaced({ order_status: 'NEW', filled: '0', quantity: '0.5', price: '3000.50', order_id: '7' },
    { side: 'SELL', type: 'LIMIT', info: { ...btc, symbol: 'ETHUSDT', base: 'ETH', tick_size: '0.01' } });
  assert.equal(resting.text, 'Sell limit 0.500 ETH at 3,000.50 USDT is working');
  assert.equal(describePlaced({ order_status: 'EXPIRED' }).tone, 'warn');
  assert.equal(latencyParts({}, undefined), '');
});

test('refusals say what happened in trader words, with the code and the host sentence only as detail', () => {
  const btc = { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick_size: '0.10', step_size: '0.001', quantity_unit: 'base' };
  const min = describeFailure({
    code: 'invalid',
    message: '1 USDT buys less than the minimum quantity 0.001 BTCUSDT at 64223.40000000; use at least 64.23 USDT',
    details: { field: 'notional', corrected: '64.23' },
  }, btc);
  assert.equal(min.text, 'Refused: below the minimum 0.001 BTC — use 64.23 USDT');
  assert.equal(min.detail, 'invalid · 1 USDT buys less than the minimum quantity 0.001 BTC at 64,223.4; use at least 64.23 USDT');
  assert.ok(!min.text.includes('[invalid]') && !min.detail.includes('64223.40000000'));
  assert.deepEqual(min.corrected, { field: 'notional', value: '64.23' });
  const err = { code: 'invalid', message: 'Order size 4 USDT is below the minimum notional 5 USDT', details: { field: 'notional', corrected: '5' } };
  assert.equal(describeFailure(err).text, 'Refused: Order size 4 USDT is below the minimum notional 5 USDT — use 5.00 USDT');
  assert.equal(correctedFormField('notional'), 'notional');
  assert.equal(correctedFormField('quantity'), null, 'a quantity cannot go into the notional box');
  const margin = describeFailure({ code: 'rejected', message: 'Margin is insufficient.', details: { broker_code: -2019 } });
  assert.equal(margin.text, 'Refused by the exchange: Margin is insufficient.');
  assert.equal(margin.detail, 'rejected');
  const closed = describeFailure({ code: 'rejected', message: 'the US market is closed (next open 13:30 UTC)', details: { reason: 'market_closed' } });
  assert.equal(closed.text, 'Refused: the US market is closed (next open 13:30 UTC)');
  assert.equal(closed.detail, 'rejected');
  const es = { symbol: 'MESZ6', base: 'MES', quote: 'USD', tick_size: '0.25', step_size: '1', quantity_unit: 'contracts' };
  assert.equal(describePlaced({ order_status: 'FILLED', filled: '2', avg_price: '6000.25' }, { side: 'BUY', info: es }).text,
    'Bought 2 MESZ6 contracts at 6,000.25 USD');
  const aapl = { symbol: 'AAPL', base: 'AAPL', quote: 'USD', tick_size: '0.01', step_size: '0.000000001', quantity_unit: 'shares' };
  assert.equal(describePlaced({ order_status: 'FILLED', filled: '0.500000000', avg_price: '200.01' }, { side: 'SELL', info: aapl }).text,
    'Sold 0.5 AAPL shares at 200.01 USD');
  assert.equal(describeFailure({ code: 'rejected', message: 'x', details: { corrected: null } }).corrected, null);
  assert.equal(describeFailure({ code: 'invalid', message: 'the ASL profile is not valid', details: { errors: [{ field: 'levels.1.callback_pct', problem: 'must be > 0' }] } }).text,
    'Refused: the ASL profile is not valid (levels.1.callback_pct: must be > 0)');
  const old = describeFailure({ code: 'unknown_type', message: "unknown message type 'order.place'" });
  assert.ok(old.hostTooOld);
  assert.match(old.text, /host too old/);
  assert.match(describeFailure({ code: 'rate_limited', message: 'slow down', details: { retry_after_s: 2.2 } }).text, /try again in 3 s/);
});

// -- freshness and the indicator --------------------------------------------------------------------
test('section ages: updated N s ago, a warning after 60 s, a clickable stale after 5 min', () => {
  assert.deepEqual(ageView(null), { level: 'none', text: 'no data yet', refresh: false });
  assert.equal(ageView(0.3).text, 'updated just now');
  assert.deepEqual(ageView(12.7), { level: 'ok', text: 'updated 12 s ago', refresh: false });
  assert.deepEqual(ageView(60), { level: 'ok', text: 'updated 1 min 0 s ago', refresh: false });
  assert.deepEqual(ageView(61), { level: 'warn', text: 'no data for 1 min 1 s', refresh: false });
  assert.deepEqual(ageView(300), { level: 'warn', text: 'no data for 5 min 0 s', refresh: false });
  assert.deepEqual(ageView(301), { level: 'stale', text: 'stale — refresh', refresh: true });
});

test('a section is as fresh as the newer of its last push and the host-reported source age', () => {
  assert.equal(sectionAgeS(10_000, {}), null);
  assert.equal(sectionAgeS(10_000, { pushMs: 4_000 }), 6);
  // No push for 6 s, but the host said 1 s ago that the stream was 0.5 s old.
  assert.equal(sectionAgeS(10_000, { pushMs: 4_000, sourceAgeS: 0.5, sourceAtMs: 9_000 }), 1.5);
  assert.equal(sectionAgeS(10_000, { pushMs: 10_500 }), 0, 'never negative');
});

test('price badge: Live within 5 s, fading to 30 s, then Delayed', () => {
  assert.equal(priceBadge(null).state, 'none');
  assert.deepEqual(priceBadge(0), { label: 'Live', state: 'live', opacity: 1 });
  assert.equal(priceBadge(5_000).state, 'live');
  const mid = priceBadge(17_500);
  assert.equal(mid.state, 'fading');
  assert.ok(mid.opacity < 1 && mid.opacity > 0.4);
  assert.ok(priceBadge(29_000).opacity < priceBadge(6_000).opacity, 'fades monotonically');
  assert.deepEqual(priceBadge(30_001), { label: 'Delayed', state: 'delayed', opacity: 1 });
  assert.equal(priceBadge(-50).state, 'live', 'clock skew into the future counts as now');
});

test('indicator: green live, amber reconnecting (attempt N), red offline with cached data', () => {
  const up = { state: 'connected' };
  assert.deepEqual(tradeIndicator(up, { state: 'live' }), { tone: 'live', label: 'live', detail: '' });
  assert.equal(tradeIndicator(up, { state: 'degraded', attempt: 3 }).label, 'reconnecting (attempt 3)');
  assert.equal(tradeIndicator(up, { state: 'degraded', attempt: 3 }).tone, 'reconnecting');
  assert.equal(tradeIndicator(up, { state: 'syncing' }).label, 'syncing…');
  // a failed connect is retried: the strip says when, not "offline"
  const waiting = tradeIndicator(up, { state: 'disconnected', attempt: 2, next_retry_s: 4.2 });
  assert.deepEqual([waiting.tone, waiting.label], ['reconnecting', 'not connected (next attempt in 4 s)']);
  assert.match(tradeIndicator(up, { state: 'disconnected', next_retry_s: 300, slow_retry: true }).label, /retrying slowly/);
  assert.equal(tradeIndicator(up, { state: 'auth_failed' }).label, 'offline — showing cached data');
  assert.equal(tradeIndicator(up, { state: 'disconnected', detail: 'closed' }).tone, 'offline');
  assert.equal(tradeIndicator(up, null).tone, 'idle');
  assert.equal(tradeIndicator({ state: 'reconnecting', attempt: 2 }, { state: 'live' }).label, 'reconnecting (attempt 2)',
    'the host link comes first: the broker state is stale while it is down');
  assert.equal(tradeIndicator({ state: 'install' }, { state: 'live' }).label, 'offline — showing cached data');
});

// -- P&L flashes and announcements ------------------------------------------------------------------
test('P&L cells flash up on a rise, shake down on a fall, and do nothing otherwise', () => {
  assert.equal(pnlDirection(undefined, '5'), null, 'the first value is not a change');
  assert.equal(pnlDirection('5.00', '5.01'), 'up');
  assert.equal(pnlDirection('-1', '-1.5'), 'down');
  assert.equal(pnlDirection('2.50', '2.5'), null);
  assert.equal(pnlDirection('x', '1'), null);
});

test('announcements: first value, then only meaningful moves, rate limited; sign flips sooner', () => {
  const a = new PnlAnnouncer({ minIntervalMs: 10_000, flipIntervalMs: 3_000, minMove: 1, minMovePct: 5 });
  assert.equal(a.consider('12.3', 'USDT', 0), 'Unrealized P&L +12.30 USDT');
  assert.equal(a.consider('30', 'USDT', 1_000), null, 'too soon');
  assert.equal(a.consider('12.4', 'USDT', 20_000), null, 'too small a move');
  assert.equal(a.consider('20', 'USDT', 20_000), 'Unrealized P&L +20.00 USDT (up)');
  assert.equal(a.consider('-4', 'USDT', 21_000), null, 'flip, but within 3 s');
  assert.equal(a.consider('-4', 'USDT', 23_500), 'Unrealized P&L −4.00 USDT, now at a loss');
  // Ticks at 10/s for a minute: at most one announcement per 10 s.
  let said = 0;
  for (let t = 24_000; t < 84_000; t += 100) if (a.consider(String(-4 - (t - 24_000) / 1000), 'USDT', t)) said += 1;
  assert.ok(said >= 1 && said <= 6, `said ${said} times`);
  a.reset();
  assert.match(a.consider('1', 'USDT', 90_000), /^Unrealized P&L \+1\.00 USDT$/);
});

test('opened and closed positions are announced by name', () => {
  const p = (id, symbol, side) => ({ id, symbol, side, size: '0.01' });
  assert.deepEqual(positionChanges([p(1, 'BTCUSDT', 'LONG')], [p(1, 'BTCUSDT', 'LONG'), p(2, 'ETHUSDT', 'SHORT')]), ['Opened SHORT ETHUSDT 0.01']);
  assert.deepEqual(positionChanges([p(1, 'BTCUSDT', 'LONG')], []), ['Closed LONG BTCUSDT']);
  assert.deepEqual(positionChanges([], []), []);
});

// -- rows ---------------------------------------------------------------------------------------------
const SYMBOLS = new Map([['BTCUSDT', { symbol: 'BTCUSDT', price_precision: 1, quantity_precision: 3, tick_size: '0.1', step_size: '0.001' }]]);
const POS = {
  id: 'a:BTCUSDT:BOTH', account_id: 'a', symbol: 'BTCUSDT', position_side: 'BOTH', side: 'LONG', size: '0.004', quantity: '0.004',
  entry: '65000', mark: '65100.25', unrealized_pnl: '0.401', roe_pct: '6.17', liquidation_price: '0', leverage: 10,
  settle_asset: 'USDT', asl_level: '1', stop_price: '63800.5', asl_next_threshold: '66300',
};

test('a position row: precision from the symbol, signed P&L and ROE, no liquidation when zero, ASL', () => {
  const v = positionRow(POS, SYMBOLS);
  assert.equal(v.entry, '65,000.0');
  assert.equal(v.mark, '65,100.3');
  assert.equal(v.pnl, '+0.40');
  assert.equal(v.pnlClass, 'pos');
  assert.equal(v.roe, '+6.17 %');
  assert.equal(v.liq, '—');
  assert.equal(v.asl, 'level 1');
  assert.ok(v.aslOn);
  assert.equal(v.stop, '63,800.5');
  assert.equal(v.next, '66,300.0');
  assert.equal(v.leverage, '10×');
  const off = positionRow({ ...POS, side: 'SHORT', unrealized_pnl: '-3', asl_level: null, stop_price: null }, SYMBOLS);
  assert.equal(off.sideClass, 'short');
  assert.equal(off.pnlClass, 'neg');
  assert.equal(off.asl, 'off');
  assert.equal(off.stop, '—');
  assert.equal(aslLabel('hard'), 'hard stop');
  assert.equal(aslLabel('safety'), 'safety stop');
});

test('orders: algo stops and trailing stops are described, cancel carries the conditional flag', () => {
  const trail = { symbol: 'BTCUSDT', side: 'SELL', type: 'TRAILING_STOP_MARKET', conditional: true, callback_rate_pct: '1.5', client_id: 'sdA', order_id: '9', quantity: '0.004', filled: '0', reduce_only: true, updated_ms: 5 };
  const stop = { symbol: 'BTCUSDT', side: 'SELL', type: 'STOP_MARKET', conditional: true, stop_price: '63700', order_id: '8', quantity: '0.004', filled: '0', updated_ms: 9 };
  const limit = { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', conditional: false, price: '60000', order_id: '7', quantity: '0.002', filled: '0.001', time_in_force: 'GTX', updated_ms: 1 };
  assert.equal(orderKind(trail), 'TRAIL 1.5 %');
  assert.equal(orderKind({ type: 'TRAILING_STOP_MARKET', activation_price: '66000' }), 'TRAIL from 66,000', 'no callback in the row: not invented');
  assert.equal(orderKind(stop), 'STOP 63,700');
  assert.equal(orderKind({ type: 'TAKE_PROFIT', stop_price: '70000' }), 'TP LMT 70,000');
  const row = orderRow(trail, SYMBOLS);
  assert.deepEqual(row.cancel, { symbol: 'BTCUSDT', order_id: '9', client_id: 'sdA', conditional: true });
  assert.equal(row.flags, 'reduce-only');
  assert.equal(orderRow(limit, SYMBOLS).price, '60,000.0');
  assert.equal(orderRow(limit, SYMBOLS).qty, '0.001 / 0.002');
  assert.equal(orderRow(limit, SYMBOLS).flags, 'post-only');
  assert.deepEqual(sortOrders([trail, limit, stop]).map((o) => o.order_id), ['7', '8', '9']);
});

test('account card and total P&L', () => {
  const rows = accountRows({ accounts: [
    { account_id: 'a', asset: 'BNB', wallet_balance: '1', equity: '1', margin_used: '0', available: '1', realized_today: '0', unrealized_pnl: '0' },
    { account_id: 'a', asset: 'USDT', wallet_balance: '100000', equity: '100000.4', margin_used: '26', available: '99974', realized_today: '-1.5', unrealized_pnl: '0.4' },
    { account_id: 'b', asset: 'USDT', wallet_balance: '5', equity: '5', margin_used: '0', available: '5', realized_today: '0', unrealized_pnl: '0' },
  ] }, 'a');
  assert.deepEqual(rows.map((r) => r.asset), ['USDT', 'BNB']);
  assert.deepEqual(rows[0].items[0], ['Wallet balance', '100,000.00']);
  assert.deepEqual(rows[0].items[4], ['Realized today', '−1.50']);
  assert.equal(rows[0].realizedClass, 'neg');
  assert.deepEqual(totalPnl({ totals: [] }), { text: '—', raw: null, asset: '', cls: 'flat' });
  assert.equal(totalPnl({ totals: [{ asset: 'USDT', unrealized_pnl: '12.345' }] }).text, '+12.35 USDT');
});

test('chart lines: entry, stop with its level, next threshold, liquidation; the asl event wins', () => {
  assert.deepEqual(chartLines(null, null), []);
  assert.deepEqual(chartLines(POS, null).map((l) => l.key), ['entry', 'stop', 'next']);
  const lines = chartLines({ ...POS, liquidation_price: '59000' }, { stop_price: '64500', level: 0, next_trigger: '67000' });
  assert.deepEqual(lines, [
    { key: 'entry', price: 65000, title: 'entry', value: '65000', approx: false },
    { key: 'stop', price: 63800.5, title: 'stop (level 1)', value: '63800.5', approx: false },
    { key: 'next', price: 66300, title: 'next ASL level', value: '66300', approx: false },
    { key: 'liq', price: 59000, title: 'liquidation', value: '59000', approx: false },
  ], 'the positions row wins');
  assert.equal(aslLabel('breakeven'), 'breakeven');
  const fromEvent = chartLines({ ...POS, asl_level: null, stop_price: null, asl_next_threshold: null }, { stop_price: '64500', level: 0, next_trigger: '67000' });
  assert.deepEqual(fromEvent.map((l) => [l.key, l.price, l.title]), [['entry', 65000, 'entry'], ['stop', 64500, 'stop'], ['next', 67000, 'next ASL level']],
    'the engine event fills gaps; a numeric level is not guessed at');
  assert.equal(aslNote({ transition: 'confirmed', detail: 'sda-BTCUSDT-L0-mwqrmsg8', latency_ms: 16 }), 'stop confirmed (16 ms)');
  assert.equal(aslNote({ transition: 'place', detail: 'sda-BTCUSDT-L1-x: trailing 2 % x 0.004' }), 'placing stop: trailing 2 % x 0.004');
  assert.equal(aslNote({ transition: 'level', detail: 'level 1 -> 2', latency_ms: 2.345 }), 'level up: level 1 -> 2 (2.3 ms)');
  assert.equal(aslNote({ transition: 'new_thing' }), 'new thing');
  assert.equal(aslNote({ message: 'level 2: trailing 1.5 %', detail: 'x' }), 'level 2: trailing 1.5 %');
  assert.equal(aslNote(null), '');
});

test('chart series: one point per second, later ticks replace, older ones are dropped, bounded', () => {
  const s = [];
  assert.equal(addPoint(s, 1_000_500, '10'), 'append');
  assert.equal(addPoint(s, 1_000_900, '11'), 'update');
  assert.deepEqual(s, [{ time: 1000, value: 11 }]);
  assert.equal(addPoint(s, 999_000, '9'), null);
  assert.equal(addPoint(s, 1_001_000, 'x'), null);
  for (let i = 0; i < CHART_MAX_POINTS + 10; i++) addPoint(s, 2_000_000 + i * 1000, String(i));
  assert.equal(s.length, CHART_MAX_POINTS);
  assert.ok(s.every((p, i) => i === 0 || p.time > s[i - 1].time));
});

// -- Setup forms --------------------------------------------------------------------------------------
test('risk limits: empty means no limit, bad values name the field, contradictions are caught', () => {
  assert.deepEqual(buildRiskLimits({ max_order_notional: '1000', max_position_notional: '', max_orders_per_minute: '60', confirm_above_notional: '500' }), {
    limits: { max_order_notional: '1000', max_position_notional: null, max_orders_per_minute: 60, confirm_above_notional: '500' }, errors: [],
  });
  const bad = buildRiskLimits({ max_order_notional: '-1', max_orders_per_minute: '1.5' });
  assert.equal(bad.limits, null);
  assert.deepEqual(bad.errors.map((e) => e.field), ['max_order_notional', 'max_orders_per_minute']);
  assert.equal(buildRiskLimits({ max_order_notional: '5000', max_position_notional: '1000' }).errors[0].field, 'max_order_notional');
  assert.equal(buildRiskLimits({ max_order_notional: '500', confirm_above_notional: '500' }).errors[0].field, 'confirm_above_notional');
  assert.deepEqual(riskForm({ max_order_notional: null, max_orders_per_minute: 60, confirm_above_notional: '5000' }),
    { max_order_notional: '', max_position_notional: '', max_orders_per_minute: '60', confirm_above_notional: '5000' });
});

const ASL_REPLY = { enabled: true, profile: { hard_stop_pct: '2', safety_stop_pct: '10', profit_basis: 'price', retry_base_ms: 500,
  levels: [{ profit_pct: '1', callback_pct: '2' }, { profit_pct: '2', callback_pct: '1.5' }, { profit_pct: '4', callback_pct: '1' }] } };

test('the ASL profile round-trips through the form and keeps fields the form does not show', () => {
  const form = aslForm(ASL_REPLY);
  assert.equal(form.levels.length, 3);
  const { request, errors } = buildAslProfile({ ...form, use_roe: true }, ASL_REPLY.profile);
  assert.deepEqual(errors, []);
  assert.equal(request.enabled, true);
  assert.equal(request.profile.retry_base_ms, 500);
  assert.equal(request.profile.profit_basis, 'roe');
  assert.ok(!('use_roe' in request.profile));
  assert.equal(buildAslProfile(form, { hard_stop_pct: '2' }).request.profile.use_roe, false, 'contract field when the host uses use_roe');
});

test('the ASL profile: levels only tighten, callbacks within 0.1-20 %, safety at least the hard stop', () => {
  const form = aslForm(ASL_REPLY);
  const looser = structuredClone(form);
  looser.levels[2].callback_pct = '1.8';
  assert.deepEqual(buildAslProfile(looser).errors.map((e) => e.field), ['levels.2.callback_pct']);
  const notIncreasing = structuredClone(form);
  notIncreasing.levels[1].profit_pct = '1';
  assert.deepEqual(buildAslProfile(notIncreasing).errors.map((e) => e.field), ['levels.1.profit_pct']);
  const wide = structuredClone(form);
  wide.levels[0].callback_pct = '21';
  assert.match(buildAslProfile(wide).errors[0].message, /from 0\.1 to 20 %/);
  const fifteen = structuredClone(form);
  fifteen.levels[0].callback_pct = '15';
  assert.deepEqual(buildAslProfile(fifteen).errors, [], 'Binance takes up to 20 % since 2026-10-23');
  assert.equal(buildAslProfile({ ...form, safety_stop_pct: '1.5' }).errors[0].field, 'safety_stop_pct');
  assert.equal(buildAslProfile({ ...form, hard_stop_pct: '100' }).errors[0].field, 'hard_stop_pct');
  assert.equal(buildAslProfile({ ...form, levels: Array.from({ length: 10 }, (_, i) => ({ profit_pct: String(i + 1), callback_pct: '1' })) }).errors[0].field, 'levels');
  assert.deepEqual(buildAslProfile({ ...form, levels: [] }).errors, [], 'no levels: hard stop only');
});

// -- hotkeys --------------------------------------------------------------------------------------------
test('buy/sell hotkeys send the saved ticket with their own side; without one the host says why', () => {
  const ticket = { symbol: 'BTCUSDT', type: 'MARKET', notional: '100', post_only: false, ioc: false, reduce_only: false, asl: true, side: 'SELL' };
  assert.deepEqual(commandRequest('buy', { ticket }), { type: 'command', payload: { name: 'buy', ticket: { ...ticket, side: 'BUY' } } });
  assert.equal(commandRequest('sell', { ticket }).payload.ticket.side, 'SELL');
  assert.deepEqual(commandRequest('buy', {}), { type: 'command', payload: { name: 'buy' } });
  assert.deepEqual(commandRequest('sell', { ticket: { notional: '5' } }).payload, { name: 'sell' }, 'a ticket without a symbol is not sent');
  assert.deepEqual(commandRequest('close_half', { position: { symbol: 'ETHUSDT', position_side: 'LONG' } }).payload,
    { name: 'close_half', position: { symbol: 'ETHUSDT', position_side: 'LONG' } });
  assert.deepEqual(commandRequest('breakeven', { position: null }).payload, { name: 'breakeven' });
  assert.deepEqual(commandRequest('flatten', { ticket }).payload, { name: 'flatten' }, 'flatten needs no ticket');
});

test("a command's notification uses the host's summary line", () => {
  const v = describeOutcome('buy', { ok: { name: 'buy', summary: 'FILLED BUY 0.002 BTCUSDT @ 65000', result: {} } });
  assert.equal(v.message, 'FILLED BUY 0.002 BTCUSDT @ 65000');
  assert.equal(v.badge, '');
  const refused = describeOutcome('buy', { error: { code: 'rejected', message: 'above the confirmation threshold: hotkey orders cannot be confirmed' } });
  assert.equal(refused.badge, '!');
  assert.equal(refused.message, 'above the confirmation threshold: hotkey orders cannot be confirmed');
});
