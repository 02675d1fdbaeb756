// Host tables -> what the Trade tab shows. Pure (unit tested); the modules render these.

import { fmtDecimal, signOf, toFloat } from './num.js';
import { fmtPrice, fmtQty, statusWords, tidyNumbers } from './words.js';

const ASL_LABELS = { hard: 'hard stop', 1: 'level 1', 2: 'level 2', 3: 'level 3', safety: 'safety stop', breakeven: 'breakeven' };

/** "level 2", "hard stop", "off" … */
export function aslLabel(level) {
  if (level === null || level === undefined || level === '') return 'off';
  return ASL_LABELS[level] ?? `level ${level}`;
}

function infoFor(symbols, symbol) {
  return symbols?.get?.(symbol);
}

/**
 * One row of the positions table.
 * @param {object} p a `positions` topic row
 * @param {Map<string, object>} [symbols] symbol -> market.symbols row (for precision)
 */
export function positionRow(p, symbols) {
  const info = infoFor(symbols, p.symbol);
  const price = (v) => fmtPrice(v, info);
  const pnlSign = signOf(p.unrealized_pnl) ?? 0;
  return {
    id: p.id,
    symbol: p.symbol,
    positionSide: p.position_side ?? 'BOTH',
    side: p.side,
    sideClass: p.side === 'SHORT' ? 'short' : 'long',
    size: fmtQty(p.size ?? p.quantity, info),
    sizeRaw: String(p.size ?? p.quantity ?? ''),
    entry: price(p.entry),
    mark: price(p.mark),
    pnl: `${fmtDecimal(p.unrealized_pnl, 2, { sign: true })}`,
    pnlRaw: p.unrealized_pnl,
    pnlClass: pnlSign > 0 ? 'pos' : pnlSign < 0 ? 'neg' : 'flat',
    roe: p.roe_pct === null || p.roe_pct === undefined ? '—' : `${fmtDecimal(p.roe_pct, 2, { sign: true })} %`,
    liq: p.liquidation_price && signOf(p.liquidation_price) > 0 ? price(p.liquidation_price) : '—',
    asl: aslLabel(p.asl_level),
    aslOn: p.asl_level !== null && p.asl_level !== undefined && p.asl_level !== '',
    stop: p.stop_price ? price(p.stop_price) : '—',
    // a native trailing stop's level, computed by the host from the mark: the venue does not say
    stopApprox: Boolean(p.stop_price) && p.stop_estimated === true,
    next: p.asl_next_threshold ? price(p.asl_next_threshold) : '',
    leverage: p.leverage ? `${p.leverage}×` : '',
    asset: p.settle_asset ?? '',
    // read back from the journal by a host that has not reached the exchange yet
    lastKnown: Number(p.last_known_ms) > 0,
  };
}

/** Short description of an order's kind: "LIMIT", "STOP 64,000.0", "TRAIL 1 %", … (prices on the tick) */
export function orderKind(o, info) {
  const t = String(o.type ?? '');
  if (t.includes('TRAILING')) {
    const act = o.activation_price && signOf(o.activation_price) > 0 ? ` from ${fmtPrice(o.activation_price, info)}` : '';
    return `TRAIL${o.callback_rate_pct ? ` ${o.callback_rate_pct} %` : ''}${act}`;
  }
  if (t.startsWith('STOP') || t.startsWith('TAKE_PROFIT')) {
    const name = t.startsWith('STOP') ? 'STOP' : 'TP';
    const limit = t.endsWith('MARKET') ? '' : ' LMT';
    return `${name}${limit} ${o.stop_price ? fmtPrice(o.stop_price, info) : ''}`.trim();
  }
  return t;
}

/**
 * One row of the open-orders table.
 * @param {object} o an `orders` topic row
 * @param {Map<string, object>} [symbols]
 */
export function orderRow(o, symbols) {
  const info = infoFor(symbols, o.symbol);
  const price = o.price && signOf(o.price) > 0 ? fmtPrice(o.price, info) : o.conditional ? '' : 'market';
  const flags = [];
  if (o.reduce_only) flags.push('reduce-only');
  if (o.close_position) flags.push('close');
  if (o.time_in_force === 'GTX') flags.push('post-only');
  if (o.position_side && o.position_side !== 'BOTH') flags.push(o.position_side);
  return {
    id: o.id ?? `${o.symbol}:${o.order_id ?? o.client_id}`,
    symbol: o.symbol,
    side: o.side,
    sideClass: o.side === 'SELL' ? 'short' : 'long',
    kind: orderKind(o, info),
    conditional: Boolean(o.conditional),
    price,
    qty: o.close_position ? 'all' : `${fmtQty(o.filled ?? '0', info, { unit: false })} / ${fmtQty(o.quantity, info)}`,
    status: statusWords(o.status ?? ''),
    flags: flags.join(' · '),
    cancel: { symbol: o.symbol, order_id: o.order_id ?? undefined, client_id: o.client_id ?? undefined, conditional: Boolean(o.conditional) },
  };
}

/** Conditional (algo) orders after plain ones, each group newest first. */
export function sortOrders(orders) {
  return [...orders].sort((a, b) => (Number(Boolean(a.conditional)) - Number(Boolean(b.conditional)))
    || ((b.updated_ms ?? 0) - (a.updated_ms ?? 0)));
}

/**
 * The account card for the active account (all of its assets, the settlement one first).
 * @param {object} payload `account` topic payload
 * @param {string|null} accountId
 */
export function accountRows(payload, accountId) {
  const rows = (payload?.accounts ?? []).filter((a) => !accountId || a.account_id === accountId);
  rows.sort((a, b) => (b.asset === 'USDT') - (a.asset === 'USDT') || String(a.asset).localeCompare(String(b.asset)));
  return rows.map((a) => ({
    asset: a.asset,
    items: [
      ['Wallet balance', fmtDecimal(a.wallet_balance, 2)],
      ['Equity', fmtDecimal(a.equity, 2)],
      ['Margin used', fmtDecimal(a.margin_used, 2)],
      ['Available', fmtDecimal(a.available, 2)],
      ['Realized today', fmtDecimal(a.realized_today, 2, { sign: true })],
      ['Unrealized', fmtDecimal(a.unrealized_pnl, 2, { sign: true })],
    ],
    realizedClass: signOf(a.realized_today) > 0 ? 'pos' : signOf(a.realized_today) < 0 ? 'neg' : 'flat',
  }));
}

/**
 * Setup's account rows: the accounts.list rows (with the venue's account names the status topic
 * has learnt since), and after each login's rows its accounts that connected since the list was
 * loaded. A login's entry-alone row (listed before any of its accounts was known) gives way as
 * soon as the status topic lists an account of that login, as accounts.list itself then does:
 * while its first activation connects, the login is not listed twice (the entry and its account).
 * @param {object[]} accounts accounts.list rows
 * @param {object[]} brokers status topic `brokers` rows
 * @returns {object[]} rows shaped like accounts.list's
 */
export function listedAccounts(accounts, brokers) {
  const accs = Array.isArray(accounts) ? accounts : [];
  const bros = Array.isArray(brokers) ? brokers : [];
  const named = new Map(bros.filter((b) => b.account_name).map((b) => [b.account_id, b.account_name]));
  const listed = new Set(accs.map((a) => a.id));
  const unlisted = new Map(); // entry id -> the status rows of its accounts the list lacks
  for (const b of bros) {
    if (listed.has(b.account_id) || !b.entry_id || !accs.some((a) => a.entry_id === b.entry_id)) continue;
    unlisted.set(b.entry_id, [...(unlisted.get(b.entry_id) ?? []), b]);
  }
  const resolved = new Set(bros.filter((b) => b.entry_id && b.account_id !== b.entry_id).map((b) => b.entry_id));
  const out = [];
  accs.forEach((a, i) => {
    const entryAlone = a.id === a.entry_id && resolved.has(a.entry_id);
    if (!entryAlone) out.push(named.has(a.id) ? { ...a, account_name: named.get(a.id) } : a);
    if (accs.slice(i + 1).some((x) => x.entry_id === a.entry_id)) return;
    for (const b of unlisted.get(a.entry_id) ?? []) {
      out.push({ ...a, id: b.account_id, venue_account: b.venue_account, account_name: b.account_name, remembered: false, active: b.active, state: b.state });
    }
  });
  return out;
}

const SWITCH_STATE = {
  connecting: 'connecting', syncing: 'syncing', degraded: 'reconnecting', disconnected: 'not connected',
  auth_failed: 'key refused', stopped: 'stopped',
};

/**
 * The Trade tab header's account switcher: every account of the active account's login (a
 * Tradovate or Volumetrica login holds several), from the accounts.list rows and the `status`
 * topic's broker rows (the login's other accounts appear there once they connect, with the
 * number of positions each holds: the other accounts' positions are visible at a glance).
 * @param {object[]} accounts accounts.list rows ({id, entry_id, account_name, venue_account, name, state})
 * @param {object[]} brokers status topic `brokers` rows ({account_id, entry_id, account_name, state})
 * @param {string|null} activeId
 * @returns {{show: boolean, options: {id: string, label: string, active: boolean, state: string}[]}}
 */
export function accountChoices(accounts, brokers, activeId) {
  const bros = Array.isArray(brokers) ? brokers : [];
  const accs = listedAccounts(accounts, bros);
  const active = accs.find((a) => a.id === activeId) ?? bros.find((b) => b.account_id === activeId);
  const entry = active?.entry_id;
  if (!activeId || !entry) return { show: false, options: [] };
  const rows = new Map();
  for (const a of accs) {
    if (a.entry_id === entry) rows.set(a.id, { id: a.id, name: a.account_name || a.venue_account || a.name, state: a.state ?? '' });
  }
  for (const b of bros) {
    if (b.entry_id !== entry) continue;
    const known = rows.get(b.account_id);
    rows.set(b.account_id, {
      id: b.account_id, name: b.account_name || known?.name || b.venue_account || b.account_id,
      state: b.state ?? known?.state ?? '', held: Number.isFinite(b.open_positions) ? b.open_positions : 0,
    });
  }
  const options = [...rows.values()]
    .sort((x, y) => x.id.localeCompare(y.id))
    .map((r) => {
      const note = SWITCH_STATE[r.state];
      const held = r.held > 0 ? ` · ${r.held} position${r.held === 1 ? '' : 's'}` : '';
      return { id: r.id, label: `${r.name}${held}${note ? ` (${note})` : ''}`, active: r.id === activeId, state: r.state };
    });
  return { show: options.length > 1, options };
}

/** The action bar's P&L text from the positions payload's totals. */
export function totalPnl(payload) {
  const totals = payload?.totals ?? [];
  if (!totals.length) return { text: '—', raw: null, asset: '', cls: 'flat' };
  const t = totals.find((x) => x.asset === 'USDT') ?? totals[0];
  const s = signOf(t.unrealized_pnl) ?? 0;
  const extra = totals.length > 1 ? ` (+${totals.length - 1} more)` : '';
  return {
    text: `${fmtDecimal(t.unrealized_pnl, 2, { sign: true })} ${t.asset}${extra}`,
    raw: t.unrealized_pnl,
    asset: t.asset,
    cls: s > 0 ? 'pos' : s < 0 ? 'neg' : 'flat',
  };
}

/** How a stop's price is said: "≈ 63,661.0" where it is a trailing stop's computed level. */
export const APPROX = '≈';

/**
 * Horizontal lines on the chart of a position: entry, current stop, next ASL threshold, liquidation.
 * @param {object|null} p positions row
 * @param {object|null} asl latest `asl` transition for this position
 * @returns {{key: string, price: number, title: string, value: string, approx: boolean}[]} price for
 *   drawing, value exact; approx: a trailing stop's level computed by the host (shown "≈")
 */
export function chartLines(p, asl) {
  if (!p) return [];
  const out = [];
  const add = (key, value, title, approx = false) => {
    const price = toFloat(value);
    if (price !== null && price > 0) out.push({ key, price, title, value: String(value), approx });
  };
  add('entry', p.entry, 'entry');
  // The positions row carries the ASL state in the contract's terms; the latest transition only
  // fills in what the row lacks (it may be a step ahead between two position pushes).
  const fromRow = p.stop_price !== null && p.stop_price !== undefined;
  const stop = fromRow ? p.stop_price : asl?.stop_price;
  const approx = (fromRow ? p.stop_estimated : asl?.stop_estimated) === true;
  const level = p.asl_level ?? (typeof asl?.level === 'string' ? asl.level : null);
  add('stop', stop, level ? `stop (${aslLabel(level)})` : 'stop', approx);
  add('next', p.asl_next_threshold ?? asl?.next_threshold ?? asl?.next_trigger, 'next ASL level');
  add('liq', p.liquidation_price, 'liquidation');
  return out;
}

export const CHART_MAX_POINTS = 1_800;

/**
 * Append a price to a per-second series (lightweight-charts wants strictly increasing times):
 * a tick in the same second replaces that second's value; older ticks are dropped.
 * @param {{time: number, value: number}[]} series mutated in place
 * @param {number} tsMs
 * @param {string|number} price
 * @returns {'append'|'update'|null} what happened
 */
export function addPoint(series, tsMs, price) {
  const value = toFloat(price);
  if (value === null || !Number.isFinite(tsMs)) return null;
  const time = Math.floor(tsMs / 1000);
  const last = series[series.length - 1];
  if (last && time < last.time) return null;
  if (last && time === last.time) {
    last.value = value;
    return 'update';
  }
  series.push({ time, value });
  if (series.length > CHART_MAX_POINTS) series.splice(0, series.length - CHART_MAX_POINTS);
  return 'append';
}

const TRANSITIONS = {
  place: 'placing stop', confirmed: 'stop confirmed', cancel: 'old stop cancelled', level: 'level up',
  rejected: 'stop rejected, retrying', close: 'closing', close_failed: 'close failed', triggered: 'stop triggered',
};

/**
 * One line about the latest ASL transition of a position: what happened and the replace latency.
 * Accepts the contract's `message` and the engine's `transition` + `detail` (client ids dropped:
 * they mean nothing to a trader).
 */
export function aslNote(t, info) {
  if (!t || typeof t !== 'object') return '';
  let text = t.message || '';
  if (!text && t.transition) {
    const what = TRANSITIONS[t.transition] ?? String(t.transition).replaceAll('_', ' ');
    const detail = String(t.detail ?? '').replace(/^sd[a-z]?-\S+?(: |$)/, '').trim();
    text = detail ? `${what}: ${detail}` : what;
  }
  const lat = Number.isFinite(t.latency_ms) ? ` (${t.latency_ms < 10 ? t.latency_ms.toFixed(1) : Math.round(t.latency_ms)} ms)` : '';
  return text ? `${tidyNumbers(text, info)}${lat}` : '';
}

/** Stable key of a position for selection (survives table refreshes). */
export function positionKey(p) {
  return p ? `${p.symbol}:${p.position_side ?? 'BOTH'}` : '';
}

export const LOCKED_TO_TRADE = 'Locked — unlock to trade';

/**
 * The Trade tab's lock line while the vault is locked (null while it is not): the desk still shows
 * what the host knows; what needs an unlock, and whether the rows are the journal's last known
 * ones (a host started without the password: nothing watches them until the unlock).
 * @param {object|null} status the `status` topic payload
 * @param {object} positions the `positions` payload; @param {object} orders the `orders` payload
 * @param {(ms: number) => string} [when] how a time is shown
 */
export function lockedView(status, positions, orders, when = (ms) => new Date(ms).toLocaleTimeString()) {
  if (status?.vault !== 'locked') return null;
  const rows = [...(positions?.positions ?? []), ...(orders?.orders ?? [])];
  const at = rows.reduce((m, r) => Math.max(m, Number(r?.last_known_ms) || 0), 0);
  if (at > 0) {
    return {
      text: 'Locked — unlock to resume protection',
      detail: `Showing the last known positions and orders (as of ${when(at)}): nothing watches them until you unlock.`,
      lastKnownMs: at,
      tone: 'error',
    };
  }
  const reduce = status.require_unlock_to_reduce
    ? 'closing, flattening and cancelling need an unlock too'
    : 'close, flatten and cancel still work';
  return {
    text: LOCKED_TO_TRADE,
    detail: `Positions, orders, P&L and ASL stay live; ${reduce}.`,
    lastKnownMs: null,
    tone: 'warn',
  };
}
