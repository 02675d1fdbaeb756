// HostClient: what panel code uses to talk to the Sidedesk host through the service worker.
//
//   const client = new HostClient();           // connects to the worker at once
//   const stats = await client.request('stats');          // reply's `ok`, or throws
//   const off = client.on('positions', (payload, seq, {snapshot}) => …);   // subscribes
//   client.onStatus(({state, attempt, message, hostVersion}) => …);
//
// Errors thrown by request() carry `.code` (the host's code, or 'timeout' / 'disconnected'),
// `.message` (meant to be shown verbatim) and `.details`.
// The worker side of the protocol is documented in lib/hub.js.

const WORKER_GRACE_MS = 2_000; // the worker enforces the real timeout; this only covers a dead worker

function makeError(code, message, details) {
  const err = new Error(message);
  err.code = code;
  if (details !== undefined) err.details = details;
  return err;
}

export class HostClient {
  /**
   * @param {object} [o]
   * @param {object} [o.runtime]   chrome.runtime (injected in tests)
   * @param {object} [o.timers]    {setTimeout, clearTimeout}
   * @param {number} [o.timeoutMs] default request timeout
   * @param {boolean} [o.autoConnect]
   */
  constructor({ runtime = globalThis.chrome?.runtime, timers = globalThis, timeoutMs = 10_000, autoConnect = true } = {}) {
    this._runtime = runtime;
    this._timers = timers;
    this._timeoutMs = timeoutMs;
    this._port = null;
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject, timer}
    this._topics = new Map(); // topic -> Set(fn)
    this._lastSeq = new Map(); // topic -> last seq seen
    this._resyncing = new Set();
    this._statusFns = new Set();
    this._noticeFns = new Set();
    this._status = { state: 'connecting', attempt: 0, message: '', hostVersion: null };
    this._reconnectDelay = 100;
    this._reconnectTimer = null;
    this._closed = false;
    if (autoConnect) this.connect();
  }

  /** Current connection status (see onStatus). */
  get status() { return { ...this._status }; }

  connect() {
    if (this._port || this._closed) return;
    let port;
    try {
      port = this._runtime.connect({ name: 'panel' });
    } catch (e) {
      // "Extension context invalidated": the extension was reloaded or updated under this page.
      this._setStatus({
        state: 'error', attempt: 0, hostVersion: null,
        message: `Lost the extension (${e?.message ?? e}). Close and reopen this panel.`,
      });
      return;
    }
    this._port = port;
    port.onMessage.addListener((msg) => this._receive(msg));
    port.onDisconnect.addListener(() => this._workerLost(port));
    const topics = [...this._topics.keys()];
    if (topics.length) this._post({ kind: 'subscribe', topics });
  }

  /** Stop talking to the worker (pending requests are rejected). */
  close() {
    this._closed = true;
    if (this._reconnectTimer !== null) this._timers.clearTimeout(this._reconnectTimer);
    const port = this._port;
    this._port = null;
    this._rejectAll('the panel closed its connection');
    if (port) port.disconnect();
  }

  /**
   * @param {string} type
   * @param {object} [payload]
   * @param {{timeoutMs?: number}} [opts]
   * @returns {Promise<any>} the reply's `ok` value
   */
  request(type, payload = {}, { timeoutMs = this._timeoutMs } = {}) {
    if (!this._port) {
      return Promise.reject(makeError('disconnected', 'Not connected to the Sidedesk extension worker'));
    }
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = this._timers.setTimeout(() => {
        if (this._pending.delete(id)) {
          reject(makeError('timeout', `${type}: no answer within ${timeoutMs / 1000} s`));
        }
      }, timeoutMs + WORKER_GRACE_MS);
      this._pending.set(id, { resolve, reject, timer });
      if (!this._post({ kind: 'request', id, type, payload, timeoutMs })) {
        this._pending.delete(id);
        this._timers.clearTimeout(timer);
        reject(makeError('disconnected', 'Not connected to the Sidedesk extension worker'));
      }
    });
  }

  /**
   * Call fn(payload, seq, {snapshot}) for every event on `topic`; the first listener subscribes
   * the topic (the host answers with a snapshot), removing the last one unsubscribes.
   * @returns {() => void} unsubscribe
   */
  on(topic, fn) {
    let fns = this._topics.get(topic);
    if (!fns) {
      fns = new Set();
      this._topics.set(topic, fns);
      this._post({ kind: 'subscribe', topics: [topic] });
    }
    fns.add(fn);
    return () => {
      const set = this._topics.get(topic);
      if (!set || !set.delete(fn) || set.size) return;
      this._topics.delete(topic);
      this._lastSeq.delete(topic);
      this._post({ kind: 'unsubscribe', topics: [topic] });
    };
  }

  /** fn(status) now and on every change: {state, attempt, message, hostVersion, …}. */
  onStatus(fn) {
    this._statusFns.add(fn);
    fn(this.status);
    return () => this._statusFns.delete(fn);
  }

  /** fn({level, text}) for notices from the worker (command results, host-level errors). */
  onNotice(fn) {
    this._noticeFns.add(fn);
    return () => this._noticeFns.delete(fn);
  }

  /** Ask the worker to reconnect to the host now (e.g. after `sidedesk install`). */
  retry() {
    this._post({ kind: 'retry' });
  }

  // -- internals --------------------------------------------------------------------------------
  _post(msg) {
    if (!this._port) return false;
    try {
      this._port.postMessage(msg);
      return true;
    } catch {
      return false;
    }
  }

  _setStatus(status) {
    this._status = { ...status };
    for (const fn of this._statusFns) {
      try { fn(this.status); } catch (e) { console.error('status listener failed', e); }
    }
  }

  _rejectAll(message) {
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) {
      this._timers.clearTimeout(p.timer);
      p.reject(makeError('disconnected', message));
    }
  }

  _workerLost(port) {
    if (this._port !== port) return;
    this._port = null;
    this._rejectAll('The extension worker restarted; try again');
    if (this._closed) return;
    this._setStatus({ ...this._status, state: 'connecting', message: 'reconnecting to the extension worker' });
    // The worker is restarted by connect(); back off a little in case it keeps dying.
    const delay = this._reconnectDelay;
    this._reconnectDelay = Math.min(this._reconnectDelay * 2, 5_000);
    this._reconnectTimer = this._timers.setTimeout(() => {
      this._reconnectTimer = null;
      this.connect();
    }, delay);
  }

  _receive(msg) {
    if (!msg || typeof msg !== 'object') return;
    switch (msg.kind) {
      case 'status':
        this._reconnectDelay = 100;
        this._setStatus(msg.status);
        break;
      case 'reply': {
        const entry = this._pending.get(msg.id);
        if (!entry) return;
        this._pending.delete(msg.id);
        this._timers.clearTimeout(entry.timer);
        if (msg.error) entry.reject(makeError(msg.error.code, msg.error.message, msg.error.details));
        else entry.resolve(msg.ok);
        break;
      }
      case 'event':
        this._event(msg);
        break;
      case 'notice':
        for (const fn of this._noticeFns) {
          try { fn({ level: msg.level, text: msg.text }); } catch (e) { console.error('notice listener failed', e); }
        }
        break;
      default:
        break;
    }
  }

  _event({ topic, seq, payload, snapshot }) {
    const fns = this._topics.get(topic);
    if (!fns) return;
    const last = this._lastSeq.get(topic);
    if (snapshot) {
      this._resyncing.delete(topic);
    } else if (last !== undefined && seq !== last + 1 && seq > last) {
      // A push went missing: ask for a fresh snapshot (once) and still deliver this one.
      if (!this._resyncing.has(topic)) {
        this._resyncing.add(topic);
        this._post({ kind: 'subscribe', topics: [topic] });
      }
    } else if (last !== undefined && seq <= last) {
      return; // already seen (another panel's snapshot request re-sent it)
    }
    this._lastSeq.set(topic, seq);
    for (const fn of [...fns]) {
      try { fn(payload, seq, { snapshot: Boolean(snapshot) }); } catch (e) { console.error(`listener for ${topic} failed`, e); }
    }
  }
}
