// A small DOM (happy-dom, from npm: `make test` installs it) and a scripted host client, so the
// panel's DOM modules run under node's test runner: a UI defect fails here in seconds.
//
//   const dom = installDom();                       // document, window, chrome.* stubs as globals
//   const client = new FakeClient({ 'vault.status': () => ({ state: 'unlocked', … }) });
//   mountSomething(dom.section('x'), client);
//   client.push('status', { vault: 'unlocked', vault_rev: 2 });
//   await settle();                                  // promises and short timers run
//   dom.close();

import { Window } from 'happy-dom';

const realSetInterval = globalThis.setInterval;
const realSetTimeout = globalThis.setTimeout;

/** Put a fresh happy-dom window's globals in place; returns helpers. */
export function installDom() {
  const window = new Window({ url: 'chrome-extension://test/sidepanel/panel.html' });
  const { document } = window;
  const g = globalThis;
  for (const name of ['window', 'document', 'HTMLElement', 'HTMLInputElement', 'HTMLSelectElement', 'Event', 'CustomEvent', 'CSS',
    'MutationObserver', 'IntersectionObserver', 'requestAnimationFrame', 'getComputedStyle']) {
    g[name] = name === 'window' ? window : window[name];
  }
  g.confirm = () => true;
  g.localStorage = window.localStorage;
  // Timers the modules start (the store's 1 s tick, fill timeouts) must not keep node alive.
  g.setInterval = (fn, ms, ...a) => { const t = realSetInterval(fn, ms, ...a); t.unref?.(); return t; };
  g.setTimeout = (fn, ms, ...a) => { const t = realSetTimeout(fn, ms, ...a); t.unref?.(); return t; };
  const stored = {};
  const changed = new Set();
  g.chrome = {
    runtime: { id: 'test-extension-id' },
    storage: {
      local: {
        get: async (key) => (typeof key === 'string' ? { [key]: stored[key] } : { ...stored }),
        set: async (obj) => {
          const changes = {};
          for (const [k, v] of Object.entries(obj)) { changes[k] = { newValue: v, oldValue: stored[k] }; stored[k] = v; }
          for (const fn of changed) fn(changes, 'local');
        },
      },
      onChanged: { addListener: (fn) => changed.add(fn) },
    },
  };
  return {
    window,
    document,
    stored,
    /** A fresh <section id> in the body (what panel.html gives each feature module). */
    section(id, tag = 'section') {
      const el = document.createElement(tag);
      el.id = id;
      document.body.append(el);
      return el;
    },
    close() { return window.happyDOM.close(); },
  };
}

/** Let promise callbacks and zero-delay timers run (a few rounds). */
export async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => realSetTimeout(r, 0));
  }
}

function hostError(code, message, details) {
  const err = new Error(message);
  err.code = code;
  if (details !== undefined) err.details = details;
  return err;
}

/** HostClient's surface with scripted replies: handlers[type](payload) returns ok or throws. */
export class FakeClient {
  constructor(handlers = {}) {
    this.handlers = handlers;
    this.sent = [];
    this.topics = new Map();
    this.statusFns = new Set();
    this._status = { state: 'connected', attempt: 0, message: '', hostVersion: '0.1.0', vault: 'unlocked' };
    this.seq = 0;
  }

  get status() { return { ...this._status }; }

  count(type) { return this.sent.filter((r) => r.type === type).length; }

  request(type, payload = {}) {
    this.sent.push({ type, payload });
    const handler = this.handlers[type];
    if (!handler) return Promise.reject(hostError('unknown_type', `unknown message type '${type}'`));
    try {
      return Promise.resolve(handler(payload));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  on(topic, fn) {
    if (!this.topics.has(topic)) this.topics.set(topic, new Set());
    this.topics.get(topic).add(fn);
    return () => this.topics.get(topic)?.delete(fn);
  }

  push(topic, payload, { snapshot = false } = {}) {
    this.seq += 1;
    for (const fn of [...(this.topics.get(topic) ?? [])]) fn(payload, this.seq, { snapshot });
  }

  onStatus(fn) {
    this.statusFns.add(fn);
    fn(this.status);
    return () => this.statusFns.delete(fn);
  }

  setStatus(changes) {
    this._status = { ...this._status, ...changes };
    for (const fn of [...this.statusFns]) fn(this.status);
  }

  onNotice() { return () => {}; }
}

export { hostError };

/** A select's value changed by the user: set it and fire `change` (and `input`), bubbling. */
export function choose(select, value) {
  select.value = value;
  select.dispatchEvent(new globalThis.Event('input', { bubbles: true }));
  select.dispatchEvent(new globalThis.Event('change', { bubbles: true }));
}

/** Text typed into an input. */
export function type(input, text) {
  input.value = text;
  input.dispatchEvent(new globalThis.Event('input', { bubbles: true }));
}

export const BTC = Object.freeze({
  symbol: 'BTCUSDT', base: 'BTC', quote: 'USDT', tick_size: '0.10', step_size: '0.001', min_qty: '0.001', max_qty: '1000',
  min_notional: '100', price_precision: 2, quantity_precision: 3, quantity_unit: 'base',
});
