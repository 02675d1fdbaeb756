// The ticket's size per quantity unit (market.symbols `quantity_unit`): coins (Binance), whole
// futures contracts (Tradovate, Volumetrica), shares or dollars (Alpaca); the saved hotkey ticket;
// the market-hours notice.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  DEFAULT_FORM, buildTicket, correctedFormField, describeSize, formFromTicket, hasLeverage, isMultipleOf,
  marketClosedNotice, pickSizeMode, placeRequest, plainDecimal, sizeModes, sizeView, unitOf,
} from '../../extension/sidepanel/ticket_form.js';
import { commandRequest } from '../../extension/lib/commands.js';

// market.symbols rows as the host sends them (Decimal str(): Alpaca's share step is "1E-9").
const BTC = { symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', step_size: '0.001', min_qty: '0.001', tick_size: '0.1', quantity_unit: 'base' };
const MES = { symbol: 'MESH6', base: 'MES', quote: 'USD', step_size: '1', min_qty: '1', tick_size: '0.25', quantity_unit: 'contracts' };
const ES2 = { ...MES, symbol: 'ESZ26', step_size: '2', min_qty: '2' }; // a made-up 2-lot product
const AAPL = { symbol: 'AAPL', base: 'AAPL', quote: 'USD', step_size: '1E-9', min_qty: '1E-9', tick_size: '0.01', quantity_unit: 'shares' };
const WHOLE = { ...AAPL, symbol: 'BRK.A', step_size: '1', min_qty: '1' }; // not fractionable

const FORM = { ...DEFAULT_FORM, symbol: 'mesh6', size_mode: 'notional', notional: '250', quantity: '2', leverage: '10' };

// -- units and modes ---------------------------------------------------------------------------------
test('each unit has its size modes, default first; leverage only for coins', () => {
  assert.equal(unitOf(BTC), 'base');
  assert.equal(unitOf(MES), 'contracts');
  assert.equal(unitOf(AAPL), 'shares');
  assert.equal(unitOf(undefined), 'base', 'no symbols row: the Binance ticket as before');
  assert.equal(unitOf({ quantity_unit: 'lots' }), 'base', 'an unknown unit falls back to the coin ticket');
  assert.deepEqual(sizeModes('base'), ['notional', 'quantity']);
  assert.deepEqual(sizeModes('contracts'), ['quantity']);
  assert.deepEqual(sizeModes('shares'), ['quantity', 'notional']);
  assert.ok(hasLeverage('base'));
  assert.ok(!hasLeverage('contracts'));
  assert.ok(!hasLeverage('shares'));
});

test('the toggle remembers a mode per unit; a unit that does not allow it shows its default', () => {
  assert.equal(pickSizeMode('base', {}), 'notional');
  assert.equal(pickSizeMode('shares', {}), 'quantity');
  assert.equal(pickSizeMode('contracts', { contracts: 'notional' }), 'quantity');
  const preferred = { base: 'quantity', shares: 'notional' };
  assert.equal(pickSizeMode('base', preferred), 'quantity');
  assert.equal(pickSizeMode('shares', preferred), 'notional');
  assert.equal(pickSizeMode('shares', { base: 'notional' }), 'quantity', "Binance's choice is not Alpaca's");
});

test('the size box shows the unit, the step and minimum from the symbol, and the toggle choices', () => {
  const mes = sizeView(MES, 'notional');
  assert.equal(mes.mode, 'quantity', 'contracts are only ever counted');
  assert.equal(mes.unitLabel, 'contracts');
  assert.equal(mes.step, '1');
  assert.equal(mes.min, '1');
  assert.equal(mes.inputmode, 'numeric');
  assert.equal(mes.hint, 'whole contracts');
  assert.deepEqual(mes.choices, [], 'no toggle for contracts');
  assert.equal(mes.leverage, false);
  assert.equal(sizeView(ES2, 'quantity').hint, 'whole contracts, min 2');

  const shares = sizeView(AAPL, 'quantity');
  assert.equal(shares.unitLabel, 'shares');
  assert.equal(shares.step, '0.000000001', "the host's 1E-9 as a plain decimal");
  assert.equal(shares.hint, 'step 0.000000001');
  assert.deepEqual(shares.choices, [{ mode: 'quantity', label: 'shares' }, { mode: 'notional', label: 'USD' }]);
  const dollars = sizeView(AAPL, 'notional');
  assert.equal(dollars.unitLabel, 'USD');
  assert.equal(dollars.step, '', 'an amount has no share step');
  assert.equal(dollars.hint, '');
  assert.equal(dollars.leverage, false);

  const btc = sizeView(BTC, 'notional');
  assert.equal(btc.unitLabel, 'USDT');
  assert.equal(btc.leverage, true);
  assert.deepEqual(btc.choices.map((c) => c.label), ['USDT', 'BTC']);
  assert.equal(sizeView(BTC, 'quantity').unitLabel, 'BTC');
  assert.equal(sizeView(BTC, 'quantity').hint, 'step 0.001');
  assert.equal(sizeView(undefined, 'notional').unitLabel, 'USDT');
});

test('exchange filters are read as exact decimals, exponent or not', () => {
  assert.equal(plainDecimal('1E-9'), '0.000000001');
  assert.equal(plainDecimal('1E+1'), '10');
  assert.equal(plainDecimal('0.0010'), '0.001');
  assert.equal(plainDecimal('1'), '1');
  assert.equal(plainDecimal('0'), '', 'a zero filter means none');
  assert.equal(plainDecimal('-1'), '');
  assert.equal(plainDecimal(undefined), '');
  assert.ok(isMultipleOf('0.3', '0.1'), 'no float error: 0.3 is three steps of 0.1');
  assert.ok(isMultipleOf('12', '1'));
  assert.ok(!isMultipleOf('1.5', '1'));
  assert.ok(isMultipleOf('0.123456789', '0.000000001'));
  assert.ok(!isMultipleOf('0.1234567891', '0.000000001'));
  assert.ok(!isMultipleOf('1', '0'));
});

// -- contracts ---------------------------------------------------------------------------------------
test('a futures ticket sends a whole number of contracts as quantity, never notional or leverage', () => {
  const { ticket, errors } = buildTicket(FORM, { symbols: ['MESH6', 'ESH6'], info: MES });
  assert.deepEqual(errors, []);
  assert.deepEqual(ticket, { symbol: 'MESH6', type: 'MARKET', quantity: '2', post_only: false, ioc: false, reduce_only: false, asl: true });
  assert.ok(!('notional' in ticket) && !('leverage' in ticket));
  assert.deepEqual(placeRequest(ticket, 'BUY').ticket.quantity, '2');
  assert.equal(describeSize(ticket, MES), '2 contracts');
  assert.equal(describeSize({ ...ticket, quantity: '1' }, MES), '1 contract');
});

test('a futures ticket refuses fractions, zero, junk and sizes off the step or under the minimum', () => {
  for (const bad of ['1.5', '0', '', 'two', '-1', '1e2', '2.0']) {
    const { ticket, errors } = buildTicket({ ...FORM, quantity: bad }, { info: MES });
    assert.equal(ticket, null, bad);
    assert.equal(errors[0].field, 'quantity', bad);
    assert.match(errors[0].message, /whole number of contracts/, bad);
  }
  assert.match(buildTicket({ ...FORM, quantity: '3' }, { info: ES2 }).errors[0].message, /multiple of 2 contracts/);
  assert.equal(buildTicket({ ...FORM, quantity: '4' }, { info: ES2 }).ticket.quantity, '4');
  const small = { ...MES, step_size: '1', min_qty: '5' };
  assert.match(buildTicket({ ...FORM, quantity: '3' }, { info: small }).errors[0].message, /smallest size is 5 contracts/);
  // A bad notional box does not matter: it is not the size of a futures ticket.
  assert.deepEqual(buildTicket({ ...FORM, notional: 'x', leverage: '999' }, { info: MES }).errors, []);
});

// -- shares ------------------------------------------------------------------------------------------
test('a stock ticket sends shares (fractions to the step) or, toggled, dollars as notional', () => {
  const form = { ...FORM, symbol: 'aapl', size_mode: 'quantity', quantity: '0.5', notional: '1500' };
  const shares = buildTicket(form, { symbols: ['AAPL'], info: AAPL }).ticket;
  assert.deepEqual(shares, { symbol: 'AAPL', type: 'MARKET', quantity: '0.5', post_only: false, ioc: false, reduce_only: false, asl: true });
  assert.equal(describeSize(shares, AAPL), '0.5 shares');
  assert.equal(describeSize({ ...shares, quantity: '1' }, AAPL), '1 share');
  const dollars = buildTicket({ ...form, size_mode: 'notional' }, { info: AAPL }).ticket;
  assert.equal(dollars.notional, '1500');
  assert.ok(!('quantity' in dollars) && !('leverage' in dollars));
  assert.equal(describeSize(dollars, AAPL), '1500 USD');
  // A limit ticket in shares keeps its price.
  assert.equal(buildTicket({ ...form, type: 'LIMIT', price: '189.5' }, { info: AAPL }).ticket.price, '189.5');
});

test('a stock ticket refuses sizes finer than the step, a fraction of a whole-share stock, and zero', () => {
  const form = { ...FORM, symbol: 'AAPL', size_mode: 'quantity' };
  const fine = buildTicket({ ...form, quantity: '0.0000000001' }, { info: AAPL });
  assert.equal(fine.errors[0].field, 'quantity');
  assert.match(fine.errors[0].message, /multiple of 0\.000000001 shares/);
  assert.match(buildTicket({ ...form, quantity: '2.5' }, { info: WHOLE }).errors[0].message, /multiple of 1 shares/);
  assert.match(buildTicket({ ...form, quantity: '0' }, { info: AAPL }).errors[0].message, /number of shares above 0/);
  const noDollars = buildTicket({ ...form, size_mode: 'notional', notional: '0' }, { info: AAPL });
  assert.equal(noDollars.errors[0].field, 'notional');
  assert.match(noDollars.errors[0].message, /above 0 in USD/);
});

// -- coins -------------------------------------------------------------------------------------------
test('a coin ticket keeps the quote-currency size and leverage, or sends a coin quantity', () => {
  const form = { ...FORM, symbol: 'btcusdt' };
  const byQuote = buildTicket(form, { info: BTC }).ticket;
  assert.deepEqual(byQuote, { symbol: 'BTCUSDT', type: 'MARKET', notional: '250', post_only: false, ioc: false, reduce_only: false, asl: true, leverage: 10 });
  assert.equal(describeSize(byQuote, BTC), '250 USDT');
  const byCoin = buildTicket({ ...form, size_mode: 'quantity', quantity: '0.004' }, { info: BTC }).ticket;
  assert.equal(byCoin.quantity, '0.004');
  assert.equal(byCoin.leverage, 10);
  assert.ok(!('notional' in byCoin));
  assert.equal(describeSize(byCoin, BTC), '0.004 BTC');
  assert.match(buildTicket({ ...form, size_mode: 'quantity', quantity: '0.0045' }, { info: BTC }).errors[0].message, /multiple of 0\.001 BTC/);
  assert.match(buildTicket({ ...form, size_mode: 'quantity', quantity: 'abc' }, { info: BTC }).errors[0].message, /quantity above 0 in BTC/);
});

// -- the saved ticket for hotkeys --------------------------------------------------------------------
test('the saved ticket comes back with its size mode and becomes the same hotkey request', () => {
  for (const [form, info] of [
    [{ ...FORM }, MES],
    [{ ...FORM, symbol: 'AAPL', size_mode: 'quantity', quantity: '0.25' }, AAPL],
    [{ ...FORM, symbol: 'AAPL', size_mode: 'notional', notional: '1000' }, AAPL],
    [{ ...FORM, symbol: 'BTCUSDT', size_mode: 'quantity', quantity: '0.002' }, BTC],
  ]) {
    const { ticket } = buildTicket(form, { info });
    const back = formFromTicket(ticket);
    assert.equal(back.size_mode, 'quantity' in ticket ? 'quantity' : 'notional');
    assert.deepEqual(buildTicket(back, { info }).ticket, ticket, `round trip ${ticket.symbol}`);
    // The hotkey sends the saved ticket unchanged but for its side: exactly one size, as the host wants.
    const sent = commandRequest('sell', { ticket }).payload.ticket;
    assert.deepEqual(sent, { ...ticket, side: 'SELL' });
    assert.equal(['notional', 'quantity'].filter((k) => k in sent).length, 1);
  }
  const old = formFromTicket({ symbol: 'BTCUSDT', notional: '300', leverage: 5 });
  assert.equal(old.size_mode, 'notional', 'a ticket saved before units existed');
  assert.equal(old.quantity, DEFAULT_FORM.quantity);
});

// -- corrections and market hours --------------------------------------------------------------------
test('a corrected size goes only into the size box on show', () => {
  assert.equal(correctedFormField('quantity', 'quantity'), 'quantity');
  assert.equal(correctedFormField('quantity', 'notional'), null);
  assert.equal(correctedFormField('notional', 'quantity'), null);
  assert.equal(correctedFormField('notional', 'notional'), 'notional');
  assert.equal(correctedFormField('price', 'quantity'), 'price');
  assert.equal(correctedFormField('side', 'quantity'), null);
});

test("a market order refused outside market hours shows the host's message verbatim; other errors do not", () => {
  const msg = 'the US market is closed (next open 2026-11-23 14:30 UTC): a market order would wait for the open; use a limit order, which is sent as an extended-hours order';
  assert.equal(marketClosedNotice({ code: 'rejected', message: msg }), msg);
  assert.equal(marketClosedNotice({ code: 'rejected', message: 'Orders outside regular trading hours need a limit price' }),
    'Orders outside regular trading hours need a limit price');
  assert.equal(marketClosedNotice({ code: 'rejected', message: 'closed for the day', details: { reason: 'market_closed' } }), 'closed for the day',
    'a structured reason wins over the wording');
  assert.equal(marketClosedNotice({ code: 'rejected', message: 'insufficient buying power' }), null);
  assert.equal(marketClosedNotice({ code: 'not_connected', message: 'the market is closed' }), null, 'only a refusal of the order');
  assert.equal(marketClosedNotice({ code: 'rejected', message: 'position is closed' }), null);
  assert.equal(marketClosedNotice(null), null);
});
