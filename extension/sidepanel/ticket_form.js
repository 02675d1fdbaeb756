// The order ticket as data: form values -> host request, host reply -> the result line.
// Pure (unit tested under node); ticket.js does the DOM. The host validates again against the
// exchange's filters and is the authority; this only catches what a person can fix at once.

import { fmtDecimal, isPositiveDecimal } from './num.js';

export const STORAGE_KEY = 'sidedesk.ticket'; // chrome.storage.local: the ticket hotkeys use
export const MAX_LEVERAGE = 125;

/** The ticket the form starts with when nothing was saved. */
export const DEFAULT_FORM = Object.freeze({
  symbol: '',
  notional: '100',
  leverage: '',
  type: 'MARKET',
  price: '',
  post_only: false,
  reduce_only: false,
  asl: true,
});

/**
 * Validate form values and build the ticket (without side).
 * @param {object} form {symbol, notional, leverage, type, price, post_only, reduce_only, asl}
 * @param {{symbols?: string[]}} [ctx] known symbols of the active account
 * @returns {{ticket: object|null, errors: {field: string, message: string}[]}}
 */
export function buildTicket(form, { symbols } = {}) {
  const errors = [];
  const symbol = String(form.symbol ?? '').trim().toUpperCase();
  if (!symbol) errors.push({ field: 'symbol', message: 'Pick a symbol.' });
  else if (symbols && symbols.length && !symbols.includes(symbol)) {
    errors.push({ field: 'symbol', message: `${symbol} is not traded on this account.` });
  }

  const notional = String(form.notional ?? '').trim();
  if (!isPositiveDecimal(notional)) {
    errors.push({ field: 'notional', message: 'Size must be an amount above 0 in the quote currency, e.g. 250 or 99.5.' });
  }

  const type = form.type === 'LIMIT' ? 'LIMIT' : form.type === 'MARKET' ? 'MARKET' : null;
  if (!type) errors.push({ field: 'type', message: 'Order type must be Market or Limit.' });

  const price = String(form.price ?? '').trim();
  if (type === 'LIMIT' && !isPositiveDecimal(price)) {
    errors.push({ field: 'price', message: 'A limit order needs a price above 0.' });
  }

  const levText = String(form.leverage ?? '').trim();
  let leverage = null;
  if (levText) {
    if (!/^\d+$/.test(levText) || Number(levText) < 1 || Number(levText) > MAX_LEVERAGE) {
      errors.push({ field: 'leverage', message: `Leverage is a whole number from 1 to ${MAX_LEVERAGE} (empty keeps the account's).` });
    } else {
      leverage = Number(levText);
    }
  }

  if (errors.length) return { ticket: null, errors };
  const ticket = {
    symbol,
    type,
    notional,
    post_only: type === 'LIMIT' && Boolean(form.post_only),
    ioc: false,
    reduce_only: Boolean(form.reduce_only),
    asl: Boolean(form.asl),
  };
  if (type === 'LIMIT') ticket.price = price;
  if (leverage !== null) ticket.leverage = leverage;
  return { ticket, errors: [] };
}

/** Form values back from a stored ticket (missing fields take the defaults). */
export function formFromTicket(stored) {
  const t = stored && typeof stored === 'object' ? stored : {};
  return {
    symbol: typeof t.symbol === 'string' ? t.symbol : DEFAULT_FORM.symbol,
    notional: typeof t.notional === 'string' ? t.notional : DEFAULT_FORM.notional,
    leverage: Number.isInteger(t.leverage) ? String(t.leverage) : '',
    type: t.type === 'LIMIT' ? 'LIMIT' : 'MARKET',
    price: typeof t.price === 'string' ? t.price : '',
    post_only: Boolean(t.post_only),
    reduce_only: Boolean(t.reduce_only),
    asl: t.asl === undefined ? DEFAULT_FORM.asl : Boolean(t.asl),
  };
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
 * One line for a placed order: the exchange's answer and the measured latencies.
 * @param {object} reply {status:'placed', order_status, filled, avg_price, order_id, host_us, roundtrip_ms, message}
 * @param {{side?: string, symbol?: string, panelMs?: number}} [ctx]
 */
export function describePlaced(reply, { side, symbol, panelMs } = {}) {
  const r = reply ?? {};
  const status = r.order_status || 'ACCEPTED';
  const verb = side === 'SELL' ? 'sell' : side === 'BUY' ? 'buy' : 'order';
  const fillPart = r.filled && Number(r.filled) > 0
    ? ` ${r.filled}${symbol ? ` ${symbol}` : ''}${r.avg_price && Number(r.avg_price) > 0 ? ` @ ${fmtDecimal(r.avg_price)}` : ''}`
    : symbol ? ` ${symbol}` : '';
  // The host's own line (e.g. "BUY 0.004 BTCUSDT market: new") says it best; else build one.
  const head = r.message ? `${status}: ${r.message}` : `${status}: ${verb}${fillPart}`;
  const bits = [head];
  if (r.order_id !== undefined && r.order_id !== null) bits.push(`order ${r.order_id}`);
  const timing = latencyParts(r, panelMs);
  if (timing) bits.push(timing);
  const tone = /REJECT|EXPIRED|CANCEL/.test(status) ? 'warn' : 'ok';
  return { text: bits.join(' · '), tone };
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
 * How to show a failed request: the host's message verbatim, its code, and the corrected value
 * when the host offers one (details.corrected, with details.field naming the ticket field).
 * @param {{code?: string, message?: string, details?: object}} err
 */
export function describeFailure(err) {
  const code = err?.code ?? 'internal';
  const message = err?.message ?? String(err);
  const d = err?.details && typeof err.details === 'object' ? err.details : {};
  let corrected = null;
  if (d.corrected !== undefined && d.corrected !== null && d.corrected !== '') {
    corrected = { field: typeof d.field === 'string' ? d.field : 'notional', value: String(d.corrected) };
  }
  let text = `[${code}] ${message}`;
  if (Array.isArray(d.errors) && d.errors.length) {
    // Field-level problems (host validation): "levels.1.callback_pct: must not be looser …".
    text += `: ${d.errors.map((e) => `${e.field ?? '?'}: ${e.problem ?? e.message ?? ''}`).join('; ')}`;
  }
  if (code === 'unknown_type') text = `[${code}] This Sidedesk host cannot trade yet (host too old): ${message}`;
  if (corrected) text += ` — corrected ${corrected.field}: ${corrected.value}`;
  return { text, code, corrected, hostTooOld: code === 'unknown_type' };
}

/**
 * The form field a corrected value can be put into, or null (a corrected *quantity* cannot go
 * into the notional box: it is shown, not applied).
 */
export function correctedFormField(field) {
  return ['notional', 'price', 'leverage'].includes(field) ? field : null;
}
