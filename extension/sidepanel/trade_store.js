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
import { failureText, flattenText, isNewer } from './words.js';

const ORDER_MEMORY = 200; // latest status per client id, for lines that follow their order
export const FILL_SHOW_MS = 8_000; // the action bar shows the last fill this long
export const FLATTEN_COOLDOWN_MS = 1_500; // a second press this soon after a flatten is ignored
const FLATTEN_TIMEOUT_MS = 30_000;

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
    this._vaultRev = null;
    this._settingsRev = null;
    this._activeSeen = undefined;
    this._hostState = null;
    this.orderStatus = new Map(); // client_id -> latest order report (log topic `order` entries)
    this.lastFill = null; // {order, atMs}
    this.ticketView = null; // {symbol, size, sizeText}: what BUY / SELL send now
    this.ticketResult = { text: '', tone: 'none' };
    this.flattenState = { busy: false, atMs: 0, text: '', tone: 'none' };
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
        this._statusChanges(payload);
        break;
      }
      case 'log':
        if (payload && typeof payload.order === 'object' && payload.order) {
          this._orderReport(payload.order, now);
          return; // an order's status: words come from the data, not the host's log line
        }
        break;
      default:
        break;
    }
    this.emit(topic, payload, meta);
  }

  /** The vault, the saved settings or the active account changed (any panel, the CLI): reload. */
  _statusChanges(payload) {
    const vault = payload?.vault ?? null;
    const vaultRev = payload?.vault_rev ?? null;
    const settingsRev = payload?.settings_rev ?? null;
    const active = (payload?.brokers ?? []).find?.((b) => b.active)?.account_id ?? null;
    const first = this._vault === null;
    const vaultChanged = vault !== this._vault || vaultRev !== this._vaultRev;
    const settingsChanged = settingsRev !== this._settingsRev;
    const activeChanged = this._activeSeen !== undefined && active !== this._activeSeen;
    this._vault = vault;
    this._vaultRev = vaultRev;
    this._settingsRev = settingsRev;
    this._activeSeen = active;
    if (!first) {
      if (vaultChanged) this.emit('vault', payload);
      if (settingsChanged) this.emit('settings', payload);
    }
    // unlocked, locked, an account added or removed, or another panel switched accounts; and a
    // listing refused as locked that the vault has opened since (the first status of a panel
    // can already say unlocked: an unlock in the same second left "Unlock the vault" for good)
    const switched = activeChanged && active !== this.accounts.active_id;
    if ((!first && (vaultChanged || switched)) || this._listedBeforeUnlock()) this.loadAccounts();
  }

  /** The account list was refused as locked, yet the latest status says the vault is open. */
  _listedBeforeUnlock() {
    return this._vault === 'unlocked' && this.accounts.error?.code === 'locked';
  }

  // -- orders: the latest status the exchange reported, fills -------------------------------------
  _orderReport(order, now) {
    const key = order.client_id || order.order_id;
    if (!key) return;
    const prev = this.orderStatus.get(key);
    if (!isNewer(order, prev)) return;
    this.orderStatus.delete(key);
    this.orderStatus.set(key, order);
    while (this.orderStatus.size > ORDER_MEMORY) this.orderStatus.delete(this.orderStatus.keys().next().value);
    const mine = !this.accounts.active_id || !order.account_id || order.account_id === this.accounts.active_id;
    this.emit('order', order);
    const more = Number.parseFloat(order.filled ?? '0') > Number.parseFloat(prev?.filled ?? '0');
    if (mine && more && (order.status === 'FILLED' || order.status === 'PARTIALLY_FILLED')) {
      this.lastFill = { order, atMs: now };
      this.emit('fill', this.lastFill);
    }
  }

  /** The latest report of the order with this client id, if one arrived. */
  orderReport(clientId) {
    return clientId ? this.orderStatus.get(clientId) ?? null : null;
  }

  // -- what the ticket sends, and its last answer (the action bar shows both) ----------------------
  setTicketView(view) {
    this.ticketView = view;
    this.emit('ticket', view);
  }

  setTicketResult(text, tone) {
    this.ticketResult = { text, tone };
    this.emit('ticket-result', this.ticketResult);
  }

  // -- Flatten all: the panel's panic button (Trade tab and action bar share one guard) -----------
  /**
   * Cancel every order and close every position of the active account (the host's `flatten`,
   * the same Desk.flatten the Alt+Shift+F hotkey runs). A press while one runs, or within
   * FLATTEN_COOLDOWN_MS of its answer, is ignored: a double press flattens once.
   * @returns {Promise<{ignored?: boolean, text?: string, tone?: string}>}
   */
  async flatten() {
    const st = this.flattenState;
    if (st.busy || (st.atMs && this.now() - st.atMs < FLATTEN_COOLDOWN_MS)) return { ignored: true };
    this.flattenState = { busy: true, atMs: 0, text: 'Flattening: cancelling every order, closing every position…', tone: 'busy' };
    this.emit('flatten', this.flattenState);
    let view;
    try {
      view = flattenText(await this.client.request('flatten', {}, { timeoutMs: FLATTEN_TIMEOUT_MS }));
    } catch (e) {
      const f = failureText(e);
      view = { text: `Flatten failed: ${f.text}`, tone: 'error', detail: f.detail };
    }
    this.flattenState = { busy: false, atMs: this.now(), ...view };
    this.emit('flatten', this.flattenState);
    return view;
  }

  // -- accounts and symbols ------------------------------------------------------------------------
  async loadAccounts() {
    // Only the latest listing counts: one started while the vault was locked may answer after
    // the one started by the unlock, and must not put "unlock the vault" back.
    const seq = (this._accountsSeq = (this._accountsSeq ?? 0) + 1);
    const vaultAsked = this._vault;
    try {
      const reply = await this.client.request('accounts.list');
      if (seq !== this._accountsSeq) return;
      this.accounts = { accounts: reply.accounts ?? [], active_id: reply.active_id ?? null, error: null, loaded: true };
    } catch (e) {
      if (seq !== this._accountsSeq) return;
      // Lost the host meanwhile: keep showing what we had (cached data), the indicator says so.
      if ((e.code === 'disconnected' || e.code === 'timeout') && this.accounts.loaded) return;
      this.accounts = { accounts: [], active_id: null, error: e, loaded: true };
      // asked while locked, answered after a status that says unlocked: ask again (once per
      // change of the vault, so a host that keeps saying both is not asked in a loop)
      if (vaultAsked !== this._vault && this._listedBeforeUnlock()) {
        this.loadAccounts();
        return;
      }
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
