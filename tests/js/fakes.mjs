// Test doubles for chrome.runtime ports and timers (no npm packages).

export class FakeEvent {
  constructor() { this.listeners = []; }
  addListener(fn) { this.listeners.push(fn); }
  removeListener(fn) { this.listeners = this.listeners.filter((f) => f !== fn); }
  fire(...args) { for (const fn of [...this.listeners]) fn(...args); }
}

/** A runtime/native port: records what was posted, lets the test deliver messages and disconnects. */
export class FakePort {
  constructor({ name = '', sender = undefined } = {}) {
    this.name = name;
    this.sender = sender;
    this.sent = [];
    this.onMessage = new FakeEvent();
    this.onDisconnect = new FakeEvent();
    this.disconnected = false;
    this.throwOnPost = null;
  }
  postMessage(msg) {
    if (this.disconnected) throw new Error('Attempting to use a disconnected port object');
    if (this.throwOnPost) throw this.throwOnPost;
    this.sent.push(structuredClone(msg));
  }
  // Like Chrome: our own disconnect() does not fire our onDisconnect.
  disconnect() { this.disconnected = true; }
  deliver(msg) { this.onMessage.fire(structuredClone(msg)); }
  /** The other end went away. */
  drop() { this.disconnected = true; this.onDisconnect.fire(this); }
  last(type) { return [...this.sent].reverse().find((m) => m.type === type || m.kind === type); }
}

/** Deterministic timers: advance(ms) runs due callbacks in time order. */
export class FakeTimers {
  constructor() { this.t = 0; this.seq = 0; this.tasks = new Map(); }
  now = () => this.t;
  setTimeout = (fn, ms) => { const id = ++this.seq; this.tasks.set(id, { at: this.t + ms, fn, every: null }); return id; };
  clearTimeout = (id) => { this.tasks.delete(id); };
  setInterval = (fn, ms) => { const id = ++this.seq; this.tasks.set(id, { at: this.t + ms, fn, every: ms }); return id; };
  clearInterval = (id) => { this.tasks.delete(id); };
  get pending() { return this.tasks.size; }
  advance(ms) {
    const end = this.t + ms;
    for (let guard = 0; guard < 10_000; guard++) {
      let next = null;
      for (const [id, task] of this.tasks) if (task.at <= end && (!next || task.at < next[1].at)) next = [id, task];
      if (!next) break;
      const [id, task] = next;
      this.t = task.at;
      if (task.every) task.at += task.every; else this.tasks.delete(id);
      task.fn();
    }
    this.t = end;
  }
}

/** Let pending promise callbacks run. */
export const flush = async () => { for (let i = 0; i < 10; i++) await Promise.resolve(); };

/** Two connected ends of a chrome.runtime port; messages arrive asynchronously, as in Chrome. */
export function linkedPorts({ name = 'panel', sender = { id: 'ext-id' } } = {}) {
  const make = () => ({
    name, sender: undefined, onMessage: new FakeEvent(), onDisconnect: new FakeEvent(), closed: false, peer: null,
    postMessage(msg) {
      if (this.closed) throw new Error('Attempting to use a disconnected port object');
      const copy = structuredClone(msg);
      const peer = this.peer;
      queueMicrotask(() => { if (!peer.closed) peer.onMessage.fire(copy); });
    },
    disconnect() {
      if (this.closed) return;
      this.closed = true;
      const peer = this.peer;
      queueMicrotask(() => { if (!peer.closed) { peer.closed = true; peer.onDisconnect.fire(peer); } });
    },
  });
  const panel = make();
  const worker = make();
  worker.sender = sender;
  panel.peer = worker;
  worker.peer = panel;
  return { panel, worker };
}
