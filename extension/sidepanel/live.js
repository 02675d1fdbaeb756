// How fresh and how live the Trade tab is: pure decisions (unit tested), DOM in the modules.
//
//  - ageView: "updated 3 s ago" / a warning after 60 s without data / "stale — refresh" after 5 min
//  - priceBadge: "Live" for a price updated within 5 s, fading, then "Delayed" after 30 s
//  - tradeIndicator: green live, amber reconnecting (attempt N), red offline — showing cached data
//  - pnlDirection: flash up / shake down
//  - PnlAnnouncer: what a screen reader hears, rate limited (never every tick)

import { cmpDecimal, fmtDecimal, toFloat } from './num.js';

export const WARN_AFTER_S = 60;
export const STALE_AFTER_S = 300;
export const LIVE_PRICE_MS = 5_000;
export const DELAYED_PRICE_MS = 30_000;

function duration(s) {
  const sec = Math.max(0, Math.floor(s));
  if (sec < 60) return `${sec} s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m} min ${sec % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/**
 * Age of a section's data in seconds: the newer of the last push the panel received and the
 * host's own measure of its source (e.g. the user stream) as of when that measure arrived.
 * @param {number} nowMs
 * @param {{pushMs?: number|null, sourceAgeS?: number|null, sourceAtMs?: number|null}} info
 * @returns {number|null} null when nothing was ever received
 */
export function sectionAgeS(nowMs, { pushMs = null, sourceAgeS = null, sourceAtMs = null } = {}) {
  const ages = [];
  if (Number.isFinite(pushMs)) ages.push((nowMs - pushMs) / 1000);
  if (Number.isFinite(sourceAgeS) && Number.isFinite(sourceAtMs)) ages.push(sourceAgeS + (nowMs - sourceAtMs) / 1000);
  if (!ages.length) return null;
  return Math.max(0, Math.min(...ages));
}

/**
 * @param {number|null} ageS
 * @returns {{level: 'none'|'ok'|'warn'|'stale', text: string, refresh: boolean}}
 */
export function ageView(ageS) {
  if (ageS === null || ageS === undefined || !Number.isFinite(ageS)) {
    return { level: 'none', text: 'no data yet', refresh: false };
  }
  if (ageS > STALE_AFTER_S) return { level: 'stale', text: 'stale — refresh', refresh: true };
  if (ageS > WARN_AFTER_S) return { level: 'warn', text: `no data for ${duration(ageS)}`, refresh: false };
  if (ageS < 1) return { level: 'ok', text: 'updated just now', refresh: false };
  return { level: 'ok', text: `updated ${duration(ageS)} ago`, refresh: false };
}

/**
 * The badge next to a price: Live within 5 s, fading until 30 s, then Delayed.
 * @param {number|null} ageMs time since the price changed (exchange time or receipt time)
 * @returns {{label: string, state: 'live'|'fading'|'delayed'|'none', opacity: number}}
 */
export function priceBadge(ageMs) {
  if (ageMs === null || ageMs === undefined || !Number.isFinite(ageMs)) return { label: '', state: 'none', opacity: 0 };
  const age = Math.max(0, ageMs);
  if (age <= LIVE_PRICE_MS) return { label: 'Live', state: 'live', opacity: 1 };
  if (age <= DELAYED_PRICE_MS) {
    const t = (age - LIVE_PRICE_MS) / (DELAYED_PRICE_MS - LIVE_PRICE_MS);
    return { label: 'Live', state: 'fading', opacity: Math.round((1 - 0.6 * t) * 100) / 100 };
  }
  return { label: 'Delayed', state: 'delayed', opacity: 1 };
}

/**
 * The Trade tab's connection indicator, from the panel's link to the host and the active broker.
 * @param {{state: string, attempt?: number}} host   HostClient status
 * @param {{state: string, attempt?: number, detail?: string}|null} broker  active account's connection
 * @returns {{tone: 'live'|'reconnecting'|'offline'|'idle', label: string, detail: string}}
 */
export function tradeIndicator(host, broker) {
  const hs = host?.state ?? 'connecting';
  if (hs === 'reconnecting') {
    return { tone: 'reconnecting', label: `reconnecting (attempt ${host.attempt || 1})`, detail: 'to the Sidedesk host' };
  }
  if (hs === 'connecting') return { tone: 'reconnecting', label: 'connecting…', detail: 'to the Sidedesk host' };
  if (hs !== 'connected') {
    return { tone: 'offline', label: 'offline — showing cached data', detail: 'the Sidedesk host is not running' };
  }
  if (!broker) return { tone: 'idle', label: 'no active account', detail: 'pick one in Setup' };
  const detail = broker.detail ?? '';
  switch (broker.state) {  // the host's account link states (core/link.py)
    case 'live':
      return { tone: 'live', label: 'live', detail };
    case 'connecting':
    case 'syncing':
      return { tone: 'reconnecting', label: broker.state === 'syncing' ? 'syncing…' : 'connecting…', detail };
    case 'degraded':
      return { tone: 'reconnecting', label: `reconnecting (attempt ${broker.attempt || 1})`, detail };
    case 'disconnected':
      if (broker.next_retry_s != null) {
        const wait = `next attempt in ${Math.round(broker.next_retry_s)} s${broker.slow_retry ? ', retrying slowly' : ''}`;
        return { tone: 'reconnecting', label: `not connected (${wait})`, detail };
      }
      return { tone: 'offline', label: 'offline — showing cached data', detail };
    case 'auth_failed':
      return { tone: 'offline', label: 'offline — showing cached data', detail: detail || 'the exchange refused the API key' };
    default:
      return { tone: 'offline', label: 'offline — showing cached data', detail };
  }
}

/** 'up' | 'down' | null: how a P&L cell should react to a new value. */
export function pnlDirection(prev, next) {
  if (prev === undefined || prev === null) return null;
  const c = cmpDecimal(next, prev);
  if (c === null || c === 0) return null;
  return c > 0 ? 'up' : 'down';
}

/**
 * Spoken P&L updates. A screen reader user wants to know when something meaningful happened, not
 * hear every tick: the first value, a sign flip (profit <-> loss), or a move of at least
 * `minMove` quote units and `minMovePct` of the last announced value, and never more often than
 * `minIntervalMs` (sign flips: `flipIntervalMs`).
 */
export class PnlAnnouncer {
  constructor({ minIntervalMs = 10_000, flipIntervalMs = 3_000, minMove = 1, minMovePct = 5 } = {}) {
    this.minIntervalMs = minIntervalMs;
    this.flipIntervalMs = flipIntervalMs;
    this.minMove = minMove;
    this.minMovePct = minMovePct;
    this.last = null; // {value: number, sign: number, atMs: number}
  }

  /** Forget the last announcement (no positions any more). */
  reset() { this.last = null; }

  /**
   * Take `total` as said without saying it: a position that opened or closed was just announced,
   * and the P&L's "first value" in the same moment would replace that sentence before it is read.
   */
  heard(total, nowMs) {
    const value = toFloat(total);
    if (value !== null) this.last = { value, sign: Math.sign(value), atMs: nowMs };
  }

  /**
   * @param {string} total decimal string
   * @param {string} asset e.g. "USDT"
   * @param {number} nowMs
   * @returns {string|null} the text to announce, or null
   */
  consider(total, asset, nowMs) {
    const value = toFloat(total);
    if (value === null) return null;
    const sign = Math.sign(value);
    const text = `Unrealized P&L ${fmtDecimal(total, 2, { sign: true })} ${asset}`;
    if (this.last === null) {
      this.last = { value, sign, atMs: nowMs };
      return text;
    }
    const since = nowMs - this.last.atMs;
    const flipped = sign !== 0 && this.last.sign !== 0 && sign !== this.last.sign;
    if (flipped && since >= this.flipIntervalMs) {
      this.last = { value, sign, atMs: nowMs };
      return `${text}, now ${sign > 0 ? 'in profit' : 'at a loss'}`;
    }
    const move = Math.abs(value - this.last.value);
    const rel = this.last.value === 0 ? Infinity : (move / Math.abs(this.last.value)) * 100;
    if (since >= this.minIntervalMs && move >= this.minMove && rel >= this.minMovePct) {
      const dir = value > this.last.value ? 'up' : 'down';
      this.last = { value, sign, atMs: nowMs };
      return `${text} (${dir})`;
    }
    return null;
  }
}

/**
 * Positions that opened or closed between two tables, as sentences (announced at once).
 * @param {object[]} prev
 * @param {object[]} next
 */
export function positionChanges(prev, next) {
  const key = (p) => p.id ?? `${p.account_id}:${p.symbol}:${p.position_side}`;
  const before = new Map(prev.map((p) => [key(p), p]));
  const after = new Map(next.map((p) => [key(p), p]));
  const out = [];
  for (const [k, p] of after) if (!before.has(k)) out.push(`Opened ${p.side} ${p.symbol} ${p.size ?? p.quantity ?? ''}`.trim());
  for (const [k, p] of before) if (!after.has(k)) out.push(`Closed ${p.side} ${p.symbol}`);
  return out;
}
