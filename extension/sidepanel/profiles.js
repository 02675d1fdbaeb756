// Setup forms as data: risk limits and the ASL profile, checked before they go to the host.
// The host validates again and is the authority (its message is shown verbatim); these checks
// only point at the field to fix without a round trip. Pure, unit tested.

import { cmpDecimal, isPositiveDecimal } from './num.js';

export const RISK_FIELDS = [
  ['max_order_notional', 'Max order size', 'quote currency, per order'],
  ['max_position_notional', 'Max position size', 'quote currency, per symbol'],
  ['max_orders_per_minute', 'Max orders per minute', 'whole number'],
  ['confirm_above_notional', 'Ask to confirm above', 'Binance and every broker without its own setting, in the account\'s currency; a hotkey above it asks in the panel'],
];

/**
 * @param {Record<string, string>} form text per field; empty = no limit
 * @returns {{limits: object|null, errors: {field: string, message: string}[]}}
 */
export function buildRiskLimits(form) {
  const errors = [];
  const limits = {};
  for (const [name, label] of RISK_FIELDS) {
    const text = String(form[name] ?? '').trim();
    if (!text) { limits[name] = null; continue; }
    if (name === 'max_orders_per_minute') {
      if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 100_000) {
        errors.push({ field: name, message: `${label}: a whole number from 1 (or empty for no limit).` });
      } else {
        limits[name] = Number(text);
      }
    } else if (!isPositiveDecimal(text)) {
      errors.push({ field: name, message: `${label}: an amount above 0 (or empty for no limit).` });
    } else {
      limits[name] = text;
    }
  }
  const { max_order_notional: order, confirm_above_notional: confirm, max_position_notional: pos } = limits;
  if (!errors.length && order && pos && cmpDecimal(order, pos) > 0) {
    errors.push({ field: 'max_order_notional', message: 'Max order size is above the max position size; no order could use it all.' });
  }
  if (!errors.length && order && confirm && cmpDecimal(confirm, order) >= 0) {
    errors.push({ field: 'confirm_above_notional', message: 'The confirmation threshold is at or above the max order size, so it would never ask.' });
  }
  return errors.length ? { limits: null, errors } : { limits, errors };
}

/** Form text from the host's limits (null -> empty). */
export function riskForm(limits) {
  const out = {};
  for (const [name] of RISK_FIELDS) {
    const v = limits?.[name];
    out[name] = v === null || v === undefined ? '' : String(v);
  }
  return out;
}

// Binance trailing stops: callbackRate from 0.1 to 20 (percent; the maximum was 10 until the
// derivatives change log of 2026-10-23). Other brokers trail in software.
export const CALLBACK_MIN = '0.1';
export const CALLBACK_MAX = '20';
export const MAX_LEVELS = 9;

function pct(text) {
  const s = String(text ?? '').trim();
  return isPositiveDecimal(s) && cmpDecimal(s, '100') < 0 ? s : null;
}

/**
 * Validate the ASL form and merge it into the host's profile (fields the form does not show are
 * kept as they were).
 * @param {{enabled: boolean, hard_stop_pct: string, safety_stop_pct: string,
 *          levels: {profit_pct: string, callback_pct: string}[], use_roe: boolean}} form
 * @param {object} [current] the profile from asl.get
 * @returns {{request: {enabled: boolean, profile: object}|null, errors: {field: string, message: string}[]}}
 */
export function buildAslProfile(form, current = {}) {
  const errors = [];
  const hard = pct(form.hard_stop_pct);
  const safety = pct(form.safety_stop_pct);
  if (!hard) errors.push({ field: 'hard_stop_pct', message: 'Hard stop: a percentage above 0 and below 100.' });
  if (!safety) errors.push({ field: 'safety_stop_pct', message: 'Safety stop: a percentage above 0 and below 100.' });
  if (hard && safety && cmpDecimal(safety, hard) < 0) {
    errors.push({ field: 'safety_stop_pct', message: 'The safety stop must be at least as wide as the hard stop (it is the fallback).' });
  }
  const levels = [];
  const rows = Array.isArray(form.levels) ? form.levels : [];
  if (rows.length > MAX_LEVELS) errors.push({ field: 'levels', message: `At most ${MAX_LEVELS} levels.` });
  rows.forEach((row, i) => {
    const n = i + 1;
    const profit = String(row.profit_pct ?? '').trim();
    const cb = String(row.callback_pct ?? '').trim();
    if (!isPositiveDecimal(profit) || cmpDecimal(profit, '1000') >= 0) {
      errors.push({ field: `levels.${i}.profit_pct`, message: `Level ${n}: profit must be a percentage above 0.` });
      return;
    }
    if (!isPositiveDecimal(cb) || cmpDecimal(cb, CALLBACK_MIN) < 0 || cmpDecimal(cb, CALLBACK_MAX) > 0) {
      errors.push({ field: `levels.${i}.callback_pct`, message: `Level ${n}: callback must be from ${CALLBACK_MIN} to ${CALLBACK_MAX} %.` });
      return;
    }
    const prev = levels[levels.length - 1];
    if (prev && cmpDecimal(profit, prev.profit_pct) <= 0) {
      errors.push({ field: `levels.${i}.profit_pct`, message: `Level ${n}: profit must be higher than level ${n - 1}'s (${prev.profit_pct} %).` });
    }
    if (prev && cmpDecimal(cb, prev.callback_pct) > 0) {
      errors.push({ field: `levels.${i}.callback_pct`, message: `Level ${n}: callback must not be looser than level ${n - 1}'s (${prev.callback_pct} %); levels only tighten.` });
    }
    levels.push({ profit_pct: profit, callback_pct: cb });
  });
  if (errors.length) return { request: null, errors };
  const profile = { ...(current ?? {}), hard_stop_pct: hard, safety_stop_pct: safety, levels };
  if ('profit_basis' in profile) profile.profit_basis = form.use_roe ? 'roe' : 'price';
  else profile.use_roe = Boolean(form.use_roe);
  return { request: { enabled: Boolean(form.enabled), profile }, errors: [] };
}

/** Form values from asl.get's reply. */
export function aslForm(reply) {
  const p = reply?.profile ?? {};
  return {
    enabled: Boolean(reply?.enabled),
    hard_stop_pct: p.hard_stop_pct != null ? String(p.hard_stop_pct) : '2',
    safety_stop_pct: p.safety_stop_pct != null ? String(p.safety_stop_pct) : '10',
    levels: (p.levels ?? []).map((l) => ({ profit_pct: String(l.profit_pct), callback_pct: String(l.callback_pct) })),
    use_roe: p.use_roe === true || p.profit_basis === 'roe',
  };
}
