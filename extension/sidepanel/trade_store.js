// The Trade tab's shared state: one subscription per host topic, fanned out to the feature
// modules (ticket, positions, orders, account, chart, action bar, status). Every topic payload is
// a full table (latest wins), so the store keeps the last one and the time it arrived; a module
// mounted later renders from it at once.
//
//   const store = tradeStore(client);     // one per HostClient
//   store.on('positions', (payload) => …); store.positions …

import { positionKey } from './trade_view.js';
import { sectionAgeS } from './live.js';
import { POSITION_KEY } from '../lib/commands.js';

export const TOPICS = ['positions', 'orders', 'account', 'quotes', 'asl', 'status', 'log'];

const stores = new WeakMap();

/** The store for this client (created and started on first use). */
export function tradeStore(client) {
  let store = stores.get(client);
  if (!store) {
    store = new TradeStore(client);
    stores.set(client, store);
    store.start();
  }
  return store;
}

class TradeStore {
  constructor(client, { now = () => Date.now() } = {}) {
    this.client = client;
    this.now = now;
    this.listeners = new Map(); // event -> Set(fn)
    this.offs = new Map(); // topic -> unsubscribe
    this.pushMs = {}; // topic -> Date.now() of the last payload
    this.positions = { positions: [], totals: [] };
    this.orders = { orders: [] };
    this.account = { accounts: [] };
    this.quotes = {}; // symbol -> {bid, ask, mark, last, ts_ms, recvMs, changedMs}
    this.asl = new Map(); // position_id -> latest transition
    this.status = null; // `status` topic payload
    this.statusAtMs = null;
    this.accounts = { accounts: [], active_id: null, error: null, loaded: false };
    this.symbols = new Map(); // symbol -> market.symbols row
    this.symbolsError = null;
    this.selectedKey = '';
    this.ticketSymbol = '';
    this._watched = '';
    this._vault = null;
    this._hostState = null;
  }

  on(event, fn) {
    let set = this.listeners.get(event);
    if (!set) { set = new Set(); this.listeners.set(event, set); }
    set.add(fn);
    return () => set.delete(fn);
  }

  emit(event, ...args) {
    for (const fn of [...(this.listeners.get(event) ?? [])]) {
      try { fn(...args); } catch (e) { console.error(`trade store listener for ${event} failed`, e); }
    }
  }

  start() {
    for (const topic of TOPICS) this._subscribe(topic);
    // Ages ("updated 3 s ago", Live/Delayed badges) move with time, not only with data.
    setInterval(() => this.emit('tick', this.now()), 1_000);
    this.client.onStatus((s) => {
      const was = this._hostState;
      this._hostState = s.state;
      this.emit('host', s);
      if (s.state === 'connected' && was !== 'connected') this.loadAccounts();
    });
  }

  _subscribe(topic) {
    this.offs.set(topic, this.client.on(topic, (payload, seq, meta) => this._receive(topic, payload, meta)));
  }

  /** "stale — refresh": drop the subscription and take it again; the host answers with a snapshot. */
  refresh(topic) {
    const off = this.offs.get(topic);
    if (off) off();
    this._subscribe(topic);
  }

  _receive(topic, payload, meta) {
    const now = this.now();
    this.pushMs[topic] = now;
    switch (topic) {
      case 'positions':
        this.positions = { positions: payload?.positions ?? [], totals: payload?.totals ?? [] };
        this._watch();
        break;
      case 'orders':
        this.orders = { orders: payload?.orders ?? [] };
        break;
      case 'account':
        this.account = { accounts: payload?.accounts ?? [] };
        break;
      case 'quotes':
        for (const [sym, q] of Object.entries(payload?.quotes ?? {})) {
          const prev = this.quotes[sym];
          const changed = !prev || prev.mark !== q.mark || prev.bid !== q.bid || prev.ask !== q.ask || prev.last !== q.last;
          this.quotes[sym] = { ...q, recvMs: now, changedMs: changed ? now : prev.changedMs };
        }
        break;
      case 'asl':
        // The snapshot (and a re-publish after a profile change) is the whole table; events are one transition.
        if (payload && payload.positions && typeof payload.positions === 'object' && !Array.isArray(payload.positions)) {
          this.asl = new Map(Object.entries(payload.positions));
        } else if (payload?.position_id !== undefined) {
          this.asl.set(String(payload.position_id), payload);
        }
        break;
      case 'status': {
        this.status = payload;
        this.statusAtMs = now;
        const vault = payload?.vault ?? null;
        if (vault !== this._vault) {
          const first = this._vault === null;
          this._vault = vault;
          if (!first) this.loadAccounts(); // unlocked or locked in Setup: the account list changed
        }
        break;
      }
      default:
        break;
    }
    this.emit(topic, payload, meta);
  }

  // -- accounts and symbols ------------------------------------------------------------------------
  async loadAccounts() {
    try {
      const reply = await this.client.request('accounts.list');
      this.accounts = { accounts: reply.accounts ?? [], active_id: reply.active_id ?? null, error: null, loaded: true };
    } catch (e) {
      // Lost the host meanwhile: keep showing what we had (cached data), the indicator says so.
      if ((e.code === 'disconnected' || e.code === 'timeout') && this.accounts.loaded) return;
      this.accounts = { accounts: [], active_id: null, error: e, loaded: true };
    }
    this.emit('accounts', this.accounts);
    if (this.accounts.active_id) await this.loadSymbols();
    else { this.symbols = new Map(); this.emit('symbols', this.symbols); }
  }

  /** After accounts.activate / deactivate: the row the host returned, then the full list. */
  async setActive() {
    await this.loadAccounts();
  }

  async loadSymbols() {
    try {
      const reply = await this.client.request('market.symbols');
      this.symbols = new Map((reply.symbols ?? []).map((s) => [s.symbol, s]));
      this.symbolsError = null;
    } catch (e) {
      this.symbols = new Map();
      this.symbolsError = e;
    }
    this._watched = '';
    this.emit('symbols', this.symbols);
    this._watch();
  }

  get activeAccount() {
    return this.accounts.accounts.find((a) => a.id === this.accounts.active_id) ?? null;
  }

  /** The active account's connection: the `status` topic's broker row, else the accounts.list row. */
  get activeBroker() {
    const id = this.accounts.active_id;
    if (!id) return null;
    const row = this.status?.brokers?.find?.((b) => b.account_id === id);
    if (row) return row;
    const acc = this.activeAccount;
    return acc ? { state: acc.state, attempt: acc.attempt, detail: acc.detail } : null;
  }

  /**
   * Seconds since this section had data: the last push, or the host's own age of the source
   * (user stream for orders/account, prices and events for positions), whichever is newer.
   */
  ageS(topic) {
    const b = this.activeBroker;
    let source = null;
    if (b && this.statusAtMs !== null) {
      const nums = (...xs) => xs.filter((x) => Number.isFinite(x));
      const pick = topic === 'positions'
        ? nums(b.last_event_age_s, b.last_price_age_s)
        : topic === 'quotes' ? nums(b.last_price_age_s) : nums(b.user_stream_age_s, b.last_event_age_s);
      if (pick.length) source = Math.min(...pick);
    }
    return sectionAgeS(this.now(), { pushMs: this.pushMs[topic] ?? null, sourceAgeS: source, sourceAtMs: this.statusAtMs });
  }

  /** Quotes flow for the ticket's symbol and every open position's. */
  setTicketSymbol(symbol) {
    this.ticketSymbol = symbol;
    this._watch();
  }

  _watch() {
    if (!this.accounts.active_id) return;
    const want = new Set(this.positions.positions.map((p) => p.symbol));
    if (this.ticketSymbol) want.add(this.ticketSymbol);
    const list = [...want].filter((s) => !this.symbols.size || this.symbols.has(s)).sort();
    const key = list.join(',');
    if (!list.length || key === this._watched) return;
    this._watched = key;
    this.client.request('market.watch', { symbols: list }).catch((e) => {
      this._watched = '';
      this.emit('log', { level: 'warning', message: `Could not watch prices for ${key}: ${e.message}`, ts_ms: this.now() });
    });
  }

  // -- selection (chart, close_half / breakeven hotkeys) -------------------------------------------
  get selected() {
    const rows = this.positions.positions;
    return rows.find((p) => positionKey(p) === this.selectedKey) ?? rows[0] ?? null;
  }

  select(position) {
    this.selectedKey = positionKey(position);
    this.emit('selection', this.selected);
    const value = position ? { symbol: position.symbol, position_side: position.position_side ?? 'BOTH' } : null;
    try {
      chrome.storage?.local?.set({ [POSITION_KEY]: value });
    } catch { /* storage unavailable: hotkeys then act without a selected position */ }
  }
}
