// The order ticket as data: form values -> host request, host reply -> the result line.
// Pure (unit tested under node); ticket.js does the DOM. The host validates again against the
// exchange's filters and is the authority; this only catches what a person can fix at once.

import { cmpDecimal, isPositiveDecimal } from './num.js';
import { failureText, placedText } from './words.js';

export const STORAGE_KEY = 'sidedesk.ticket'; // chrome.storage.local: the ticket hotkeys use
export const MAX_LEVERAGE = 125;

/** The ticket the form starts with when nothing was saved. */
export const DEFAULT_FORM = Object.freeze({
  symbol: '',
  size_mode: 'notional', // which size box counts: 'notional' (quote currency) or 'quantity'
  notional: '100',
  quantity: '1',
  leverage: '',
  type: 'MARKET',
  price: '',
  post_only: false,
  reduce_only: false,
  asl: true,
});

// -- size units -------------------------------------------------------------------------------------
// `market.symbols` rows say how the broker counts an order's size (`quantity_unit`):
//   base      (Binance) coins; the ticket sizes in the quote currency by default, or in coins
//   contracts (Tradovate, Volumetrica) whole futures contracts only; no leverage on the ticket
//   shares    (Alpaca) shares, fractions as fine as `step_size`; or a dollar amount (notional)

const MODES = Object.freeze({
  base: Object.freeze(['notional', 'quantity']),
  contracts: Object.freeze(['quantity']),
  shares: Object.freeze(['quantity', 'notional']),
});

/**
 * The futures contract a symbol trades and its last trading day, as the host names them
 * ("MESZ6 · expires 2026-12-18"); '' for symbols without an expiry (spot-like, stocks, perpetuals).
 */
export function contractText(info) {
  const expires = typeof info?.expires === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(info.expires) ? info.expires : '';
  if (!expires) return '';
  return `${info.contract || info.symbol} · expires ${expires}`;
}

/** The unit of a symbols row ("base" when unknown: the Binance ticket, as before units existed). */
export function unitOf(info) {
  const u = info?.quantity_unit;
  return u === 'contracts' || u === 'shares' ? u : 'base';
}

/** Size modes a unit allows, its default first. */
export function sizeModes(unit) {
  return MODES[unit] ?? MODES.base;
}

/**
 * The size mode to show for `unit`: the one last chosen for that unit if it allows it, else its
 * default. `preferred` maps unit -> mode (the toggle's memory, per unit).
 */
export function pickSizeMode(unit, preferred) {
  const modes = sizeModes(unit);
  const want = preferred?.[unit];
  return modes.includes(want) ? want : modes[0];
}

/** Leverage is set on the ticket only where the exchange has per-symbol leverage (Binance). */
export function hasLeverage(unit) {
  return unit === 'base';
}

/**
 * What the size box shows for a symbol: its unit label, the input's step/min and a hint, and
 * the toggle's choices (none for contracts).
 * @param {object|undefined} info market.symbols row
 * @param {'notional'|'quantity'} mode
 */
export function sizeView(info, mode) {
  const unit = unitOf(info);
  const m = sizeModes(unit).includes(mode) ? mode : sizeModes(unit)[0];
  const quote = info?.quote || (unit === 'base' ? 'USDT' : 'USD');
  const base = info?.base || '';
  const label = (u, md) => {
    if (md === 'notional') return quote;
    if (u === 'contracts') return 'contracts';
    if (u === 'shares') return 'shares';
    return base || 'qty';
  };
  const step = plainDecimal(info?.step_size) || (unit === 'contracts' ? '1' : '');
  const min = plainDecimal(info?.min_qty);
  let hint = '';
  if (m === 'quantity') {
    if (unit === 'contracts') hint = `whole contracts${min && min !== '1' ? `, min ${trimZeros(min)}` : ''}`;
    else if (step) hint = `step ${trimZeros(step)}${min && cmpDecimal(min, step) !== 0 ? ` · min ${trimZeros(min)}` : ''}`;
  }
  return {
    unit,
    mode: m,
    unitLabel: label(unit, m),
    step: m === 'quantity' ? step : '',
    min: m === 'quantity' ? min : '',
    inputmode: m === 'quantity' && unit === 'contracts' ? 'numeric' : 'decimal',
    hint,
    choices: sizeModes(unit).length > 1 ? sizeModes(unit).map((x) => ({ mode: x, label: label(unit, x) })) : [],
    leverage: hasLeverage(unit),
  };
}

/**
 * A positive exchange filter as a plain decimal string ("1E-9" -> "0.000000001": Python's str()
 * of a small Decimal uses an exponent), or '' when it is missing, zero or not a number.
 */
export function plainDecimal(value) {
  const m = /^\s*(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?\s*$/.exec(String(value ?? ''));
  if (!m) return '';
  const exp = Number(m[3] ?? 0);
  let digits = m[1] + (m[2] ?? '');
  let point = m[1].length + exp; // position of the decimal point within `digits`
  if (point <= 0) { digits = '0'.repeat(1 - point) + digits; point = 1; }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const intPart = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const frac = digits.slice(point).replace(/0+$/, '');
  const out = frac ? `${intPart}.${frac}` : intPart;
  return /[1-9]/.test(out) ? out : '';
}

function trimZeros(d) {
  const s = String(d).trim();
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** [BigInt units, scale] of a non-negative plain decimal, or null. */
function units(d) {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(String(d).trim());
  if (!m) return null;
  const frac = m[2] ?? '';
  return [BigInt(m[1] + frac), frac.length];
}

/** True when `value` is a whole multiple of `step` (both non-negative decimal strings), exactly. */
export function isMultipleOf(value, step) {
  const v = units(value);
  const s = units(step);
  if (!v || !s || s[0] === 0n) return false;
  const scale = Math.max(v[1], s[1]);
  const a = v[0] * 10n ** BigInt(scale - v[1]);
  const b = s[0] * 10n ** BigInt(scale - s[1]);
  return a % b === 0n;
}

function checkQuantity(text, unit, info) {
  const what = unit === 'contracts' ? 'contracts' : unit === 'shares' ? 'shares' : (info?.base || 'the base asset');
  if (unit === 'contracts') {
    if (!/^\d+$/.test(text) || !/[1-9]/.test(text)) return `Size is a whole number of contracts above 0, e.g. 1 or 3.`;
  } else if (!isPositiveDecimal(text)) {
    return unit === 'shares'
      ? 'Size must be a number of shares above 0, e.g. 10 or 0.5.'
      : `Size must be a quantity above 0 in ${what}, e.g. 0.01.`;
  }
  const step = plainDecimal(info?.step_size);
  if (step && !isMultipleOf(text, step)) {
    return `Size must be a multiple of ${step} ${what}.`;
  }
  const min = plainDecimal(info?.min_qty);
  if (min && cmpDecimal(text, min) < 0) {
    return `The smallest size is ${trimZeros(min)} ${what}.`;
  }
  return null;
}

/**
 * Validate form values and build the ticket (without side).
 * @param {object} form {symbol, size_mode, notional, quantity, leverage, type, price, post_only, reduce_only, asl}
 * @param {{symbols?: string[], info?: object}} [ctx] known symbols of the active account, and the
 *   market.symbols row of the form's symbol (its unit, step and minimum); without it the size is
 *   checked only for being a positive number
 * @returns {{ticket: object|null, errors: {field: string, message: string}[]}}
 */
export function buildTicket(form, { symbols, info } = {}) {
  const errors = [];
  const symbol = String(form.symbol ?? '').trim().toUpperCase();
  if (!symbol) errors.push({ field: 'symbol', message: 'Pick a symbol.' });
  else if (symbols && symbols.length && !symbols.includes(symbol)) {
    errors.push({ field: 'symbol', message: `${symbol} is not traded on this account.` });
  }

  const unit = unitOf(info);
  const mode = sizeModes(unit).includes(form.size_mode) ? form.size_mode : sizeModes(unit)[0];
  const notional = String(form.notional ?? '').trim();
  const quantity = String(form.quantity ?? '').trim();
  if (mode === 'notional' && !isPositiveDecimal(notional)) {
    const quote = info?.quote || (unit === 'shares' ? 'USD' : 'the quote currency');
    errors.push({ field: 'notional', message: `Size must be an amount above 0 in ${quote}, e.g. 250 or 99.5.` });
  }
  if (mode === 'quantity') {
    const problem = checkQuantity(quantity, unit, info);
    if (problem) errors.push({ field: 'quantity', message: problem });
  }

  const type = form.type === 'LIMIT' ? 'LIMIT' : form.type === 'MARKET' ? 'MARKET' : null;
  if (!type) errors.push({ field: 'type', message: 'Order type must be Market or Limit.' });

  const price = String(form.price ?? '').trim();
  if (type === 'LIMIT' && !isPositiveDecimal(price)) {
    errors.push({ field: 'price', message: 'A limit order needs a price above 0.' });
  }

  // Futures contracts and shares have no per-order leverage: the field is hidden and not sent.
  const levText = hasLeverage(unit) ? String(form.leverage ?? '').trim() : '';
  let leverage = null;
  if (levText) {
    if (!/^\d+$/.test(levText) || Number(levText) < 1 || Number(levText) > MAX_LEVERAGE) {
      errors.push({ field: 'leverage', message: `Leverage is a whole number from 1 to ${MAX_LEVERAGE} (empty keeps the account's).` });
    } else {
      leverage = Number(levText);
    }
  }

  if (errors.length) return { ticket: null, errors };
  const ticket = { symbol, type };
  // The host takes exactly one of the two sizes.
  if (mode === 'quantity') ticket.quantity = quantity;
  else ticket.notional = notional;
  Object.assign(ticket, {
    post_only: type === 'LIMIT' && Boolean(form.post_only),
    ioc: false,
    reduce_only: Boolean(form.reduce_only),
    asl: Boolean(form.asl),
  });
  if (type === 'LIMIT') ticket.price = price;
  if (leverage !== null) ticket.leverage = leverage;
  return { ticket, errors: [] };
}

/** Form values back from a stored ticket (missing fields take the defaults). */
export function formFromTicket(stored) {
  const t = stored && typeof stored === 'object' ? stored : {};
  const byQuantity = typeof t.quantity === 'string' && typeof t.notional !== 'string';
  return {
    symbol: typeof t.symbol === 'string' ? t.symbol : DEFAULT_FORM.symbol,
    size_mode: byQuantity ? 'quantity' : 'notional',
    notional: typeof t.notional === 'string' ? t.notional : DEFAULT_FORM.notional,
    quantity: typeof t.quantity === 'string' ? t.quantity : DEFAULT_FORM.quantity,
    leverage: Number.isInteger(t.leverage) ? String(t.leverage) : '',
    type: t.type === 'LIMIT' ? 'LIMIT' : 'MARKET',
    price: typeof t.price === 'string' ? t.price : '',
    post_only: Boolean(t.post_only),
    reduce_only: Boolean(t.reduce_only),
    asl: t.asl === undefined ? DEFAULT_FORM.asl : Boolean(t.asl),
  };
}

/** "2 contracts", "10 shares", "300 USDT", "0.5 BTC": the size of a built ticket, for the result line. */
export function describeSize(ticket, info) {
  const view = sizeView(info, 'quantity' in ticket ? 'quantity' : 'notional');
  const amount = 'quantity' in ticket ? ticket.quantity : ticket.notional;
  if (view.unit === 'contracts' && amount === '1') return '1 contract';
  if (view.unit === 'shares' && view.mode === 'quantity' && amount === '1') return '1 share';
  return `${amount} ${view.unitLabel}`;
}

/**
 * The `order.place` payload.
 * @param {object} ticket from buildTicket
 * @param {'BUY'|'SELL'} side
 * @param {{source?: 'panel'|'hotkey', confirmed?: boolean}} [opts]
 */
export function placeRequest(ticket, side, { source = 'panel', confirmed = false } = {}) {
  if (side !== 'BUY' && side !== 'SELL') throw new Error(`side must be BUY or SELL, not ${side}`);
  return { ticket: { ...ticket, side }, source, confirmed };
}

/**
 * One line for a placed order: what the exchange answered, in a trader's words ("Bought 0.016
 * BTC at 60,093.5 USDT", "Buy 0.016 BTC at market sent — waiting for the fill"), with the order id
 * and the measured latencies as detail.
 * @param {object} reply {status:'placed', order_status, filled, avg_price, quantity, price, order_id, host_us, roundtrip_ms}
 * @param {{side?: string, type?: string, info?: object, panelMs?: number}} [ctx]
 */
export function describePlaced(reply, { side, type, info, panelMs } = {}) {
  const r = reply ?? {};
  const view = placedText(r, { side, type: type ?? (r.price ? 'LIMIT' : 'MARKET'), info });
  const bits = [];
  if (r.order_id !== undefined && r.order_id !== null) bits.push(`order ${r.order_id}`);
  const timing = latencyParts(r, panelMs);
  if (timing) bits.push(timing);
  return { text: view.text, tone: view.tone, status: view.status, detail: bits.join(' · ') };
}

/** "host 38 µs · exchange 1.9 ms · panel 4.2 ms" from what was measured. */
export function latencyParts(reply, panelMs) {
  const out = [];
  if (Number.isFinite(reply?.host_us)) out.push(`host ${Math.round(reply.host_us)} µs`);
  if (Number.isFinite(reply?.roundtrip_ms)) out.push(`round trip ${fmtMs(reply.roundtrip_ms)}`);
  if (Number.isFinite(panelMs)) out.push(`panel ${fmtMs(panelMs)}`);
  return out.join(' · ');
}

function fmtMs(ms) {
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

/**
 * How to show a failed request: what happened in a trader's words, the host's code (and its own
 * sentence) as detail, and the corrected value when the host offers one (details.corrected, with
 * details.field naming the ticket field).
 * @param {{code?: string, message?: string, details?: object}} err
 * @param {object} [info] the symbol's market.symbols row, for the numbers
 */
export function describeFailure(err, info) {
  const view = failureText(err, info);
  return { ...view, hostTooOld: view.code === 'unknown_type' };
}

/**
 * The form field a corrected value can be put into, or null: only the size box on show can take
 * a corrected size (a corrected *quantity* is not put into the notional box, nor the reverse; it
 * is shown, not applied).
 * @param {string} field the host's details.field
 * @param {'notional'|'quantity'} [mode] the size box on show
 */
export function correctedFormField(field, mode = 'notional') {
  if (field === 'notional' || field === 'quantity') return field === mode ? field : null;
  return ['price', 'leverage'].includes(field) ? field : null;
}

/**
 * The host's own words when it refused an order because the market is closed (Alpaca outside
 * regular hours), else null. The panel keeps no calendar: hours and the next open come only
 * from the host's message, shown verbatim. A structured `details.reason: "market_closed"` is
 * honoured first; hosts that only say it in words are recognised by the wording.
 * @param {{code?: string, message?: string, details?: object}} err
 */
export function marketClosedNotice(err) {
  const message = typeof err?.message === 'string' ? err.message : '';
  if (!message) return null;
  if (err?.details && typeof err.details === 'object' && err.details.reason === 'market_closed') return message;
  if (err?.code !== 'rejected' && err?.code !== 'invalid') return null;
  return /\bmarket is closed\b|\boutside (?:regular |market |trading )?(?:market |trading )?hours\b/i.test(message) ? message : null;
}
