// The one native-messaging port to the Sidedesk host, owned by the service worker.
//
// Everything browser-specific is injected (the connect function, lastError, timers, clock), so
// this module runs unchanged under `node --test` with a fake port. It owns:
//   - the request table: integer ids, per-request timeouts, rejection of every pending request
//     when the port goes away;
//   - the connection state machine: connecting -> connected, and on disconnect either
//     'install' (the browser cannot find / may not start the host: retrying cannot help) or
//     'reconnecting' with exponential backoff;
//   - hello on every new port, re-subscription of the topics panels want, and a periodic ping
//     that measures the native round trip and reports the last one in the next ping;
//   - reassembly of replies/events the host had to split into chunks (1 MiB native limit).

import { backoffDelay } from './backoff.js';

export const HOST_NAME = 'com.sidedesk.host';
export const PROTOCOL_VERSION = 1;
export const DEFAULT_TIMEOUT_MS = 10_000;
export const PING_INTERVAL_MS = 5_000;
// A connection that dies sooner than this after hello does not reset the backoff, so a host that
// crashes right after starting is retried ever more slowly instead of every half second.
export const STABLE_AFTER_MS = 10_000;

/**
 * Classify `chrome.runtime.lastError.message` as read inside `port.onDisconnect`.
 * Strings measured on Chromium 156 (see research/chrome.md §1.5).
 * @param {string|undefined|null} message
 * @returns {{permanent: boolean, reason: string}}
 */
export function classifyDisconnect(message) {
  const m = String(message ?? '').toLowerCase();
  if (m.includes('not found')) return { permanent: true, reason: 'not_found' };
  if (m.includes('forbidden')) return { permanent: true, reason: 'forbidden' };
  if (m.includes('invalid native messaging host name')) return { permanent: true, reason: 'invalid_name' };
  if (m.includes('exited')) return { permanent: false, reason: 'exited' };
  if (m.includes('communicating')) return { permanent: false, reason: 'communication' };
  if (m.includes('failed to start')) return { permanent: false, reason: 'start_failed' };
  return { permanent: false, reason: 'unknown' };
}

/** An Error with the fields the UI contract promises: code, message, details. */
export function hostError(code, message, details = undefined) {
  const err = new Error(message);
  err.code = code;
  if (details !== undefined) err.details = details;
  return err;
}

/** Plain-data form of an error, for crossing a runtime port. */
export function errorBody(err) {
  const body = { code: err?.code ?? 'internal', message: String(err?.message ?? err) };
  if (err?.details !== undefined) body.details = err.details;
  return body;
}

/**
 * Reassembles `{"type":"chunk","chunk_id","index","count","data"}` pieces into the original
 * message. Pieces of one chunk_id arrive in order on the single port, but we do not rely on it.
 */
export class ChunkAssembler {
  constructor({ maxOpen = 8 } = {}) {
    this.maxOpen = maxOpen;
    this.open = new Map(); // chunk_id -> {count, parts: string[], received}
  }

  /**
   * @returns {{message?: object, error?: string}} message when complete; error when a piece is
   *   malformed (the partial message is dropped); {} while waiting for more pieces.
   */
  feed(chunk) {
    const { chunk_id: id, index, count, data } = chunk;
    if (!Number.isInteger(id) || !Number.isInteger(index) || !Number.isInteger(count) || count < 1 ||
        index < 0 || index >= count || typeof data !== 'string') {
      if (Number.isInteger(id)) this.open.delete(id);
      return { error: 'malformed chunk from the host' };
    }
    let entry = this.open.get(id);
    if (!entry) {
      if (this.open.size >= this.maxOpen) {
        // Bound memory: the oldest unfinished message is abandoned (its request will time out).
        this.open.delete(this.open.keys().next().value);
      }
      entry = { count, parts: new Array(count), received: 0 };
      this.open.set(id, entry);
    }
    if (entry.count !== count) {
      this.open.delete(id);
      return { error: `chunk ${id}: inconsistent piece count` };
    }
    if (entry.parts[index] === undefined) entry.received += 1;
    entry.parts[index] = data;
    if (entry.received < count) return {};
    this.open.delete(id);
    try {
      const message = JSON.parse(entry.parts.join(''));
      if (message === null || typeof message !== 'object' || Array.isArray(message)) {
        return { error: `chunk ${id}: reassembled text is not a JSON object` };
      }
      return { message };
    } catch (e) {
      return { error: `chunk ${id}: reassembled text is not valid JSON (${e.message})` };
    }
  }
}

const realTimers = () => ({
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h),
});

/**
 * @typedef {object} ConnectionStatus
 * @property {'connecting'|'connected'|'reconnecting'|'install'|'error'} state
 * @property {number} attempt        reconnect attempt (0 when none is pending)
 * @property {string} message        human-readable detail (lastError text, hello failure, …)
 * @property {string|null} reason    classification of the last disconnect
 * @property {string|null} hostVersion
 * @property {number|null} protocolVersion
 * @property {number|null} pid
 * @property {string[]} capabilities
 * @property {string|null} vault
 * @property {number|null} rttMs     last native round trip (ping)
 * @property {number|null} nextRetryMs
 */

export class NativeConnection {
  /**
   * @param {object} o
   * @param {() => object} o.connect      returns a port (chrome.runtime.connectNative(HOST_NAME))
   * @param {() => (string|undefined)} o.lastError  chrome.runtime.lastError?.message
   * @param {object} [o.timers]           {setTimeout, clearTimeout, setInterval, clearInterval}
   * @param {() => number} [o.now]        monotonic milliseconds
   * @param {() => number} [o.random]
   * @param {object} [o.hello]            hello payload (client name/version)
   * @param {number} [o.pingIntervalMs]
   * @param {number} [o.timeoutMs]        default per-request timeout
   */
  constructor({
    connect, lastError, timers = realTimers(), now = () => performance.now(), random = Math.random,
    hello = {}, pingIntervalMs = PING_INTERVAL_MS, timeoutMs = DEFAULT_TIMEOUT_MS,
    stableAfterMs = STABLE_AFTER_MS, backoff = {},
  }) {
    this._connect = connect;
    this._lastError = lastError;
    this._timers = timers;
    this._now = now;
    this._random = random;
    this._helloPayload = hello;
    this._pingIntervalMs = pingIntervalMs;
    this._timeoutMs = timeoutMs;
    this._stableAfterMs = stableAfterMs;
    this._backoff = backoff;

    this._port = null;
    this._nextId = 1;
    this._pending = new Map(); // id -> {resolve, reject, timer, type}
    this._assembler = new ChunkAssembler();
    this._retryTimer = null;
    this._pingTimer = null;
    this._failures = 0;
    this._connectedAt = null;
    this._lastRtt = null;
    this.wanted = new Set(); // topics some panel wants
    this.lateReplies = 0;

    this._statusListeners = new Set();
    this._eventListeners = new Set();
    this._noticeListeners = new Set();
    this._status = this._freshStatus('connecting', '');
  }

  // -- listeners --------------------------------------------------------------------------------
  onStatus(fn) { this._statusListeners.add(fn); return () => this._statusListeners.delete(fn); }
  onEvent(fn) { this._eventListeners.add(fn); return () => this._eventListeners.delete(fn); }
  onNotice(fn) { this._noticeListeners.add(fn); return () => this._noticeListeners.delete(fn); }

  get status() { return { ...this._status, capabilities: [...this._status.capabilities] }; }
  get connected() { return this._status.state === 'connected'; }
  get pendingCount() { return this._pending.size; }

  _freshStatus(state, message) {
    return {
      state, attempt: 0, message, reason: null, hostVersion: null, protocolVersion: null, pid: null,
      capabilities: [], vault: null, rttMs: null, nextRetryMs: null,
    };
  }

  _setStatus(patch) {
    this._status = { ...this._status, ...patch };
    const snapshot = this.status;
    for (const fn of this._statusListeners) fn(snapshot);
  }

  _notice(level, text) {
    for (const fn of this._noticeListeners) fn({ level, text });
  }

  // -- connection lifecycle ---------------------------------------------------------------------
  /** Open the port if there is none (idempotent). */
  start() {
    if (this._port || this._retryTimer !== null) return;
    this._open();
  }

  /** Connect now: used after the user fixed an install problem, or when a panel opens. */
  retryNow() {
    if (this._port && this._status.state === 'error') {
      // e.g. hello was refused (version mismatch) and the user updated the host: start afresh.
      const port = this._port;
      this._teardown('restarting the connection', 'disconnected');
      port.disconnect();
    }
    if (this._port) return;
    if (this._retryTimer !== null) {
      this._timers.clearTimeout(this._retryTimer);
      this._retryTimer = null;
    }
    this._open();
  }

  /** Close the port for good (tests, extension shutdown). */
  stop() {
    if (this._retryTimer !== null) this._timers.clearTimeout(this._retryTimer);
    this._retryTimer = null;
    const port = this._port;
    this._teardown('the connection was closed', 'disconnected');
    if (port) port.disconnect();
  }

  _open() {
    if (this._failures > 0) {
      // Still 'reconnecting (attempt N)' while this attempt runs; keep the reason it is needed.
      this._setStatus({
        ...this._freshStatus('reconnecting', this._status.message),
        attempt: this._failures, reason: this._status.reason,
      });
    } else {
      this._setStatus(this._freshStatus('connecting', ''));
    }
    let port;
    try {
      port = this._connect();
    } catch (e) {
      // connectNative throws synchronously only for problems retrying cannot fix (no permission).
      this._setStatus({ state: 'error', message: String(e?.message ?? e), reason: 'connect_threw' });
      return;
    }
    this._port = port;
    port.onMessage.addListener((msg) => { if (this._port === port) this._receive(msg); });
    port.onDisconnect.addListener(() => {
      // lastError must be read inside this handler; later it is gone.
      const message = this._lastError?.() ?? '';
      if (this._port === port) this._lost(message);
    });
    this._hello(port);
  }

  async _hello(port) {
    let reply;
    try {
      reply = await this.request('hello', this._helloPayload);
    } catch (err) {
      if (this._port !== port) return; // the port already died; _lost handled it
      if (err.code === 'timeout') {
        // Started but silent: drop it and retry like a crash.
        this._lost(`the host did not answer hello within ${this._timeoutMs / 1000} s`);
        port.disconnect();
      } else {
        this._setStatus({ state: 'error', message: `hello failed: ${err.message}`, reason: err.code });
      }
      return;
    }
    if (this._port !== port) return;
    this._connectedAt = this._now();
    this._setStatus({
      state: 'connected', attempt: 0, message: '', nextRetryMs: null,
      hostVersion: reply.host_version ?? null, protocolVersion: reply.protocol_version ?? null,
      pid: reply.pid ?? null, capabilities: Array.isArray(reply.capabilities) ? reply.capabilities : [],
      vault: reply.vault ?? null,
    });
    if (reply.protocol_version !== PROTOCOL_VERSION) {
      this._notice('error', `host speaks protocol v${reply.protocol_version}, this extension v${PROTOCOL_VERSION}; update one of them`);
    }
    if (this.wanted.size) this._subscribe([...this.wanted]);
    this._startPing(port);
  }

  _startPing(port) {
    this._ping(port);
    this._pingTimer = this._timers.setInterval(() => this._ping(port), this._pingIntervalMs);
  }

  async _ping(port) {
    const t0 = this._now();
    const payload = { t: t0 };
    if (this._lastRtt !== null) payload.rtt_ms = Math.min(600_000, Math.max(0, this._lastRtt));
    try {
      await this.request('ping', payload);
    } catch (err) {
      if (this._port === port && err.code === 'timeout') {
        this._notice('warning', `the host did not answer a ping within ${this._timeoutMs / 1000} s`);
      }
      return;
    }
    if (this._port !== port) return;
    this._lastRtt = Math.round((this._now() - t0) * 1000) / 1000;
    this._setStatus({ rttMs: this._lastRtt });
  }

  _teardown(message, code) {
    this._port = null;
    if (this._pingTimer !== null) this._timers.clearInterval(this._pingTimer);
    this._pingTimer = null;
    this._assembler = new ChunkAssembler();
    const pending = [...this._pending.values()];
    this._pending.clear();
    for (const p of pending) {
      this._timers.clearTimeout(p.timer);
      p.reject(hostError(code, `${p.type}: ${message}`));
    }
  }

  _lost(lastErrorMessage) {
    const message = lastErrorMessage || 'the host closed the connection';
    const { permanent, reason } = classifyDisconnect(lastErrorMessage);
    const wasUpFor = this._connectedAt === null ? 0 : this._now() - this._connectedAt;
    this._connectedAt = null;
    this._teardown(`the host disconnected (${message})`, 'disconnected');
    if (permanent) {
      this._setStatus({ ...this._freshStatus('install', message), reason });
      return;
    }
    if (wasUpFor >= this._stableAfterMs) this._failures = 0;
    this._failures += 1;
    const delay = backoffDelay(this._failures, { ...this._backoff, random: this._random });
    this._setStatus({
      ...this._freshStatus('reconnecting', message), reason, attempt: this._failures, nextRetryMs: delay,
    });
    this._retryTimer = this._timers.setTimeout(() => {
      this._retryTimer = null;
      this._open();
    }, delay);
  }

  // -- topics -----------------------------------------------------------------------------------
  /** Add topics; when connected, subscribe now (the snapshots are emitted as events). */
  want(topics) {
    const list = topics.filter((t) => typeof t === 'string' && t);
    for (const t of list) this.wanted.add(t);
    if (this.connected && list.length) this._subscribe(list);
  }

  /** Drop topics nobody wants any more. */
  unwant(topics) {
    const list = topics.filter((t) => this.wanted.delete(t));
    if (this.connected && list.length) {
      this.request('unsubscribe', { topics: list }).catch((err) => {
        if (err.code !== 'disconnected') this._notice('error', `unsubscribe failed: ${err.message}`);
      });
    }
  }

  async _subscribe(topics) {
    let reply;
    try {
      reply = await this.request('subscribe', { topics });
    } catch (err) {
      if (err.code !== 'disconnected') this._notice('error', `subscribe ${topics.join(', ')} failed: ${err.message}`);
      return;
    }
    for (const [topic, snap] of Object.entries(reply?.snapshots ?? {})) {
      this._emitEvent({ topic, seq: snap.seq, payload: snap.payload, snapshot: true });
    }
  }

  _emitEvent(ev) {
    for (const fn of this._eventListeners) fn(ev);
  }

  // -- requests ---------------------------------------------------------------------------------
  /**
   * Send one request; resolves with the reply's `ok`, rejects with an Error carrying `code`
   * (the host's code, 'timeout' or 'disconnected'), `message` and `details`.
   */
  request(type, payload = {}, { timeoutMs = this._timeoutMs } = {}) {
    const port = this._port;
    if (!port) return Promise.reject(hostError('disconnected', this._notConnectedMessage()));
    const id = this._nextId++;
    return new Promise((resolve, reject) => {
      const timer = this._timers.setTimeout(() => {
        if (this._pending.delete(id)) {
          reject(hostError('timeout', `${type}: no answer from the host within ${timeoutMs / 1000} s`));
        }
      }, timeoutMs);
      this._pending.set(id, { resolve, reject, timer, type });
      try {
        port.postMessage({ v: PROTOCOL_VERSION, id, type, payload });
      } catch (e) {
        this._pending.delete(id);
        this._timers.clearTimeout(timer);
        const text = String(e?.message ?? e);
        const code = /disconnected/i.test(text) ? 'disconnected' : 'invalid';
        reject(hostError(code, `${type}: could not send to the host (${text})`));
      }
    });
  }

  _notConnectedMessage() {
    const s = this._status;
    if (s.state === 'install') return `The Sidedesk host is not available: ${s.message}`;
    if (s.state === 'reconnecting') return `The Sidedesk host is not connected (reconnecting, attempt ${s.attempt})`;
    return 'The Sidedesk host is not connected';
  }

  _receive(msg) {
    if (msg === null || typeof msg !== 'object') {
      this._notice('error', 'the host sent a frame that is not a JSON object');
      return;
    }
    if (msg.type === 'chunk') {
      const { message, error } = this._assembler.feed(msg);
      if (error) this._notice('error', error);
      if (message) this._receive(message);
      return;
    }
    if (msg.type === 'event' && !('id' in msg)) {
      this._emitEvent({ topic: msg.topic, seq: msg.seq, payload: msg.payload, snapshot: false });
      return;
    }
    if (msg.type === 'batch' && Array.isArray(msg.events)) {
      // several topics' pushes that fell due together, in one frame; each keeps its own seq
      for (const ev of msg.events) this._receive(ev);
      return;
    }
    const entry = this._pending.get(msg.id);
    if (!entry) {
      if (msg.error && (msg.id === null || msg.id === undefined)) {
        // A frame the host could not attribute to a request (e.g. undecodable input).
        this._notice('error', `host error ${msg.error.code}: ${msg.error.message}`);
      } else {
        this.lateReplies += 1; // answered after its timeout; the caller already got 'timeout'
      }
      return;
    }
    this._pending.delete(msg.id);
    this._timers.clearTimeout(entry.timer);
    if (msg.error) {
      entry.reject(hostError(msg.error.code ?? 'internal', msg.error.message ?? 'unknown host error', msg.error.details));
    } else {
      entry.resolve(msg.ok);
    }
  }
}
