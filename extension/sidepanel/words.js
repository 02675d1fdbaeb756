// What the panel says, in a trader's words, with every number on its instrument's grid.
// Pure (unit tested under node): prices to the tick, sizes to the quantity step with their unit,
// money with its currency; fills ("Bought 0.016 BTC at 60,093.5 USDT"), order statuses, refusals
// ("Refused: below the minimum 0.001 BTC — use 64.23 USDT") with the host's code kept as detail.
//
// `info` is a market.symbols row: {symbol, base, quote, tick_size, step_size, min_qty,
// min_notional, price_precision, quantity_precision, quantity_unit}. Without one, numbers are
// shown as the host sent them, trailing zeros dropped.

import { decimalsOf, fmtDecimal, isDecimal, signOf } from './num.js';

// -- exact decimal helpers ------------------------------------------------------------------------

/** [BigInt units, scale] of a decimal string (sign kept), or null. */
function parts(value) {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (!isDecimal(value)) return null;
  const s = value.trim();
  const neg = s.startsWith('-');
  const body = s.replace(/^[+-]/, '');
  const [i, f = ''] = body.split('.');
  const units = BigInt(i + f);
  return [neg ? -units : units, f.length];
}

function toPlain(units, scale) {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${neg ? '-' : ''}${int}${scale ? `.${frac}` : ''}`;
}

/** A decimal string without insignificant trailing zeros ("64223.40000000" -> "64223.4"). */
export function trimDecimal(value) {
  const p = parts(value);
  if (!p) return value == null ? '' : String(value);
  const s = toPlain(p[0], p[1]);
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/**
 * `value` rounded to the nearest multiple of `step` (half away from zero), exactly, as a plain
 * decimal string with the step's decimals ("60230.996", "0.1" -> "60231.0"; "5012.3", "0.25" ->
 * "5012.25"). Null when either is not a decimal or the step is not positive.
 */
export function roundToStep(value, step) {
  const v = parts(value);
  const s = parts(step);
  if (!v || !s || s[0] <= 0n) return null;
  const scale = Math.max(v[1], s[1]);
  const a = v[0] * 10n ** BigInt(scale - v[1]);
  const b = s[0] * 10n ** BigInt(scale - s[1]);
  const neg = a < 0n;
  const abs = neg ? -a : a;
  let k = abs / b;
  if ((abs % b) * 2n >= b) k += 1n;
  const rounded = (neg ? -k : k) * b; // at `scale`
  const dp = decimalsOf(trimDecimal(step)) ?? s[1];
  // back to the step's decimals (exact: a multiple of the step has no more)
  const out = scale > dp ? rounded / 10n ** BigInt(scale - dp) : rounded * 10n ** BigInt(dp - scale);
  return toPlain(out, dp);
}

function positive(step) {
  return isDecimal(step) && signOf(step) > 0 ? step : null;
}

// -- instrument formatting --------------------------------------------------------------------------

/** What a size is counted in: "BTC", "contracts", "shares" (singular for exactly one). */
export function sizeUnit(info, amount) {
  const unit = info?.quantity_unit;
  const one = trimDecimal(amount) === '1';
  if (unit === 'contracts') return one ? 'contract' : 'contracts';
  if (unit === 'shares') return one ? 'share' : 'shares';
  return info?.base || '';
}

/** The quote currency of an instrument ("USDT", "USD"). */
export function quoteOf(info) {
  return info?.quote || (info?.quantity_unit === 'base' || !info?.quantity_unit ? 'USDT' : 'USD');
}

/** Decimals of the tick, else of price_precision, else undefined (the value's own). */
function priceDp(info) {
  const tick = positive(info?.tick_size);
  if (tick) return decimalsOf(trimDecimal(tick));
  return Number.isInteger(info?.price_precision) ? info.price_precision : undefined;
}

function qtyDp(info) {
  const step = positive(info?.step_size);
  if (step) return decimalsOf(trimDecimal(step));
  return Number.isInteger(info?.quantity_precision) ? info.quantity_precision : undefined;
}

/**
 * A price on the instrument's tick, grouped: "60,231.0"; with {currency: true} "60,231.0 USDT".
 * A value off the grid (a trailing stop's estimate) is rounded to the nearest tick.
 */
export function fmtPrice(value, info, { currency = false } = {}) {
  if (!isDecimal(typeof value === 'number' ? String(value) : value)) return '—';
  const tick = positive(info?.tick_size);
  const dp = priceDp(info);
  const onGrid = tick ? roundToStep(value, tick) : value;
  const text = dp === undefined ? fmtDecimal(trimDecimal(onGrid)) : fmtDecimal(onGrid, dp);
  return currency ? `${text} ${quoteOf(info)}` : text;
}

/**
 * A size on the instrument's step with its unit: "0.016 BTC", "2 contracts", "10 shares"; with
 * {symbol: true} contracts and shares name their instrument ("2 MESZ6 contracts", "0.5 AAPL
 * shares"; a coin's base asset already does). Steps finer than 1e-6 (fractional shares) show the
 * value's own decimals rather than nine.
 */
export function fmtQty(value, info, { unit = true, symbol = false } = {}) {
  if (!isDecimal(typeof value === 'number' ? String(value) : value)) return '—';
  const dp = qtyDp(info);
  const text = dp === undefined || dp > 6 ? fmtDecimal(trimDecimal(value)) : fmtDecimal(value, dp);
  let u = unit ? sizeUnit(info, value) : '';
  if (u && symbol && info?.symbol && (info.quantity_unit === 'contracts' || info.quantity_unit === 'shares')) u = `${info.symbol} ${u}`;
  return u ? `${text} ${u}` : text;
}

/** Money: two decimals, grouped, with its currency ("1,234.50 USDT"). */
export function fmtMoney(value, asset, { sign = false } = {}) {
  const text = fmtDecimal(value, 2, { sign });
  return asset && text !== '—' ? `${text} ${asset}` : text;
}

/**
 * Numbers inside a sentence the host wrote, put on the instrument's grid: trailing zeros go,
 * a price with more decimals than the tick is rounded to it and grouped, a size followed by the
 * symbol or base asset gets the step's decimals and the base asset's name. Percentages, whole
 * numbers (ids, milliseconds, counts) and amounts in the quote currency are left as they are.
 */
export function tidyNumbers(text, info) {
  if (typeof text !== 'string' || !text) return text ?? '';
  const symbol = info?.symbol ?? '';
  const base = info?.base ?? '';
  const quote = info?.quote ?? '';
  // A whole number where a price stands ("stop 60002", "at 5012") gets the tick's decimals.
  const priced = info ? text.replace(/(?<=\b(?:stop|at|price|breakeven|entry|mark|trigger|from|to)\s)(\d{2,})(?![\d.,]|\s*(?:%|ms|s\b))/g, (m) => fmtPrice(m, info)) : text;
  return priced.replace(/(?<![\w.,])(-?\d+\.\d+)(?!\d|\.\d)(\s*)(%|[A-Za-z][A-Za-z0-9]*)?/g, (m, num, space, after = '') => {
    if (after === '%') return `${trimDecimal(num)}${space}${after}`;
    if (after && (after === symbol || after === base || after === 'contracts' || after === 'shares') && info) {
      const unitWord = after === symbol && base ? base : after;
      return `${fmtQty(num, info, { unit: false })}${space}${unitWord}`;
    }
    if (after && after === quote) return `${trimDecimal(num)}${space}${after}`;
    const trimmed = trimDecimal(num);
    const big = Math.abs(Number.parseFloat(trimmed)) >= 1;
    const tooFine = (decimalsOf(trimmed.replace('-', '')) ?? 0) > (priceDp(info) ?? Infinity);
    const shown = info && big && tooFine ? fmtPrice(trimmed, info) : big ? fmtDecimal(trimmed) : trimmed;
    return `${shown}${space}${after}`;
  });
}

// -- orders, fills, refusals ------------------------------------------------------------------------

const STATUS_WORDS = {
  NEW: 'working',
  PARTIALLY_FILLED: 'partly filled',
  FILLED: 'filled',
  CANCELED: 'cancelled',
  EXPIRED: 'expired',
  REJECTED: 'refused by the exchange',
  TRIGGERED: 'triggered',
  UNKNOWN: 'unknown — reconciling',
};

/** "working", "partly filled", … for an exchange status. */
export function statusWords(status) {
  return STATUS_WORDS[status] ?? String(status ?? '').toLowerCase().replaceAll('_', ' ');
}

function verbPast(side) { return side === 'SELL' ? 'Sold' : 'Bought'; }
function verbNow(side) { return side === 'SELL' ? 'Sell' : 'Buy'; }

/** "buy limit 0.016 BTC at 58,000.0 USDT", "sell 0.004 BTC at market", "stop 59,000.0 USDT". */
export function orderWords(o, info) {
  const side = verbNow(o.side).toLowerCase();
  const type = String(o.type ?? 'MARKET');
  const qty = isDecimal(o.quantity) && signOf(o.quantity) > 0 ? ` ${fmtQty(o.quantity, info, { symbol: true })}` : '';
  if (type === 'MARKET') return `${side}${qty} at market`;
  if (type === 'LIMIT') return `${side} limit${qty} at ${fmtPrice(o.price, info, { currency: true })}`;
  const stop = isDecimal(o.stop_price) && signOf(o.stop_price) > 0 ? ` at ${fmtPrice(o.stop_price, info, { currency: true })}` : '';
  const kind = type.includes('TRAILING') ? 'trailing stop' : type.startsWith('TAKE_PROFIT') ? 'take-profit' : 'stop';
  return `${side} ${kind}${qty}${stop}`;
}

/**
 * The line for an order's latest status, as the exchange reported it.
 * @param {object} o {side, type, status, quantity, filled, avg_price, price, stop_price, reject_reason}
 */
export function orderStatusText(o, info) {
  const filled = isDecimal(o.filled) && signOf(o.filled) > 0 ? o.filled : null;
  const avg = isDecimal(o.avg_price) && signOf(o.avg_price) > 0 ? o.avg_price : null;
  const at = avg ? ` at ${fmtPrice(avg, info, { currency: true })}` : '';
  switch (o.status) {
    case 'FILLED':
      return `${verbPast(o.side)} ${fmtQty(filled ?? o.quantity, info, { symbol: true })}${at}`;
    case 'PARTIALLY_FILLED':
      return `${verbPast(o.side)} ${fmtQty(filled ?? '0', info, { symbol: true })} of ${fmtQty(o.quantity, info, { unit: false })}${at}; the rest is working`;
    case 'CANCELED':
    case 'EXPIRED': {
      const part = filled ? ` (${fmtQty(filled, info)} filled${at})` : ', nothing filled';
      return `${o.status === 'CANCELED' ? 'Cancelled' : 'Expired'}: ${orderWords(o, info)}${part}`;
    }
    case 'REJECTED':
      return `Refused by the exchange: ${orderWords(o, info)}${o.reject_reason ? ` — ${tidyNumbers(o.reject_reason, info)}` : ''}`;
    case 'TRIGGERED':
      return `Triggered: ${orderWords(o, info)}`;
    case 'UNKNOWN':
      return `Unknown — reconciling: ${orderWords(o, info)}; Sidedesk is asking the exchange whether it was placed`;
    default: {
      const words = orderWords(o, info);
      if (String(o.type ?? 'MARKET') === 'MARKET') return `${words[0].toUpperCase()}${words.slice(1)} sent — waiting for the fill`;
      return `${words[0].toUpperCase()}${words.slice(1)} is working`;
    }
  }
}

/** The tone of a status line: ok (filled / working), warn (cancelled, expired), error (refused). */
export function statusTone(status) {
  if (status === 'REJECTED') return 'error';
  if (status === 'CANCELED' || status === 'EXPIRED' || status === 'UNKNOWN') return 'warn';
  return 'ok';
}

/** Is `next` a later report of the same order than `prev` (the latest the exchange reported wins)? */
export function isNewer(next, prev) {
  if (!prev) return true;
  const final = (s) => ['FILLED', 'CANCELED', 'EXPIRED', 'REJECTED'].includes(s);
  if (final(prev.status) && !final(next.status)) return false;
  const t1 = Number(next.update_time_ms ?? 0);
  const t0 = Number(prev.update_time_ms ?? 0);
  if (t1 !== t0) return t1 > t0;
  return (cmpFilled(next.filled, prev.filled) ?? 0) >= 0;
}

function cmpFilled(a, b) {
  const pa = parts(a ?? '0');
  const pb = parts(b ?? '0');
  if (!pa || !pb) return null;
  const scale = Math.max(pa[1], pb[1]);
  const x = pa[0] * 10n ** BigInt(scale - pa[1]);
  const y = pb[0] * 10n ** BigInt(scale - pb[1]);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The line for an `order.place` / `position.close` reply: what the exchange answered, in words.
 * @param {object} reply {order_status, filled, avg_price, quantity, price, order_id}
 * @param {{side: string, type?: string, info?: object}} ctx
 */
export function placedText(reply, { side, type = 'MARKET', info } = {}) {
  const r = reply ?? {};
  const o = {
    side, type, status: r.order_status || 'NEW', quantity: r.quantity, filled: r.filled, avg_price: r.avg_price, price: r.price,
  };
  return { text: orderStatusText(o, info), tone: statusTone(o.status), status: o.status };
}

const CODE_WORDS = {
  invalid: 'Refused',
  rejected: 'Refused by the exchange',
  locked: 'Vault locked',
  not_connected: 'Not sent: not connected to the exchange',
  rate_limited: 'Not sent: too many requests',
  unknown_outcome: 'Unknown — reconciling',
  auth: 'Key refused',
  disconnected: 'Not sent: the Sidedesk host is not connected',
  timeout: 'No answer in time',
  unknown_type: 'This Sidedesk host is too old for this',
  internal: 'Host error',
  bad_request: 'The panel sent something the host did not accept',
};

/**
 * A failed request in a trader's words, with the host's code (and its own sentence) as detail.
 * @param {{code?: string, message?: string, details?: object}} err
 * @param {object} [info] the order's symbol row, for the numbers
 * @returns {{text: string, detail: string, code: string, corrected: {field: string, value: string}|null}}
 */
export function failureText(err, info) {
  const code = err?.code ?? 'internal';
  const message = String(err?.message ?? err ?? '');
  const d = err?.details && typeof err.details === 'object' ? err.details : {};
  const corrected = d.corrected !== undefined && d.corrected !== null && d.corrected !== ''
    ? { field: typeof d.field === 'string' ? d.field : 'notional', value: String(d.corrected) } : null;
  const quote = quoteOf(info);
  const num = (re) => { const m = re.exec(message); return m ? m[1] : null; };
  let text = null;
  // Exchange rules the host checked before sending (nothing was sent).
  const minQty = num(/less than the minimum quantity ([\d.]+)/) ?? num(/below the \w+ minimum ([\d.]+)/);
  const minValue = num(/below the minimum order value ([\d.]+)/) ?? num(/is below the minimum ([\d.]+);/);
  const step = num(/not a multiple of the step ([\d.]+)/);
  const tick = num(/not on the tick ([\d.]+)/);
  const use = corrected ? (corrected.field === 'notional' ? fmtMoney(corrected.value, quote) : corrected.field === 'price' ? fmtPrice(corrected.value, info, { currency: true }) : fmtQty(corrected.value, info)) : null;
  const tail = use ? ` — use ${use}` : '';
  if (code === 'invalid' && minQty) text = `Refused: below the minimum ${fmtQty(minQty, info)}${tail}`;
  else if (code === 'invalid' && minValue) text = `Refused: below the minimum order value ${fmtMoney(minValue, quote)}${tail}`;
  else if (code === 'invalid' && step) text = `Refused: sizes go in steps of ${fmtQty(step, info)}${tail}`;
  else if (code === 'invalid' && tick) text = `Refused: prices go in steps of ${trimDecimal(tick)} ${quote}${tail}`;
  else if (code === 'rejected' && d.limit) text = `Refused by your risk limits: ${tidyNumbers(message, info)}`;
  else if (code === 'rejected' && d.broker_code === undefined) text = `Refused: ${tidyNumbers(message, info)}`; // the host's own refusal
  else if (code === 'unknown_type') text = `This Sidedesk host cannot do this yet (host too old): ${message}`;
  else if (code === 'rate_limited' && Number(d.retry_after_s) > 0) text = `Not sent: too many requests — try again in ${Math.ceil(Number(d.retry_after_s))} s`;
  else if (code === 'timeout') text = `No answer in time: ${message}. Check Orders before trying again`;
  else if (code === 'disconnected') text = `Not sent: ${message}`;
  else if (code === 'locked' && /^Locked — /.test(message)) text = message; // the lock's own sentence (core/lock.py)
  else {
    const head = CODE_WORDS[code] ?? 'Failed';
    const body = tidyNumbers(message, info);
    text = body ? `${head}: ${body}` : head;
    if (Array.isArray(d.errors) && d.errors.length) {
      text += ` (${d.errors.map((e) => `${e.field ?? '?'}: ${e.problem ?? e.message ?? ''}`).join('; ')})`;
    }
    if (corrected && !/\buse\b/.test(message)) text += tail;
    return { text, detail: code, code, corrected };
  }
  const said = tidyNumbers(message, info);
  return { text, detail: said && !text.includes(said) ? `${code} · ${said}` : code, code, corrected };
}

/** "Flattened: 2 orders cancelled, 1 position closed" (and the first problem, if any). */
export function flattenText(reply) {
  const n = (count, one, many) => `${count} ${count === 1 ? one : many}`;
  const cancelled = Number(reply?.cancelled ?? 0);
  const closed = Number(reply?.closed ?? 0);
  const errors = Array.isArray(reply?.errors) ? reply.errors : [];
  let text = cancelled || closed
    ? `Flattened: ${n(cancelled, 'order', 'orders')} cancelled, ${n(closed, 'position', 'positions')} closed`
    : 'Flattened: nothing was open';
  if (errors.length) text += `; ${n(errors.length, 'problem', 'problems')}: ${errors[0]}`;
  return { text, tone: errors.length ? 'warn' : 'ok' };
}
