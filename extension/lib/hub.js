// The service worker's side of the panel <-> worker protocol.
//
// Panels (side panel, or the panel page opened as a tab) connect with
// chrome.runtime.connect({name: 'panel'}). Messages on that port:
//
//   panel -> worker
//     {kind: 'request', id, type, payload, timeoutMs?}   relay to the host
//     {kind: 'subscribe', topics: [..]}                  this panel wants these topics
//     {kind: 'unsubscribe', topics: [..]}
//     {kind: 'retry'}                                    reconnect now (after fixing an install)
//     {kind: 'status'}                                   send me the current status again
//   worker -> panel
//     {kind: 'status', status}                           on connect and on every change
//     {kind: 'reply', id, ok} | {kind: 'reply', id, error: {code, message, details?}}
//     {kind: 'event', topic, seq, payload, snapshot}     every host event, to every panel
//     {kind: 'notice', level, text}                      things the user should see (command results, …)
//
// The host is subscribed to the union of the topics the open panels want.

const KINDS = new Set(['request', 'subscribe', 'unsubscribe', 'retry', 'status']);
const MAX_TOPICS = 32;

function topicList(value) {
  if (!Array.isArray(value)) return null;
  const out = value.filter((t) => typeof t === 'string' && t.length > 0 && t.length <= 64);
  return out.length === value.length && out.length <= MAX_TOPICS ? out : null;
}

export class PanelHub {
  /**
   * @param {import('./native.js').NativeConnection} native
   * @param {{extensionId: string, own?: string[]}} opts  own: topics the worker itself follows
   *   (the status topic, for desktop notifications), kept subscribed with no panel open
   */
  constructor(native, { extensionId, own = [] }) {
    this.native = native;
    this.extensionId = extensionId;
    this.own = new Set(own);
    this.panels = new Map(); // port -> Set(topic)
    if (this.own.size) native.want([...this.own]);
    native.onStatus((status) => this.broadcast({ kind: 'status', status }));
    native.onEvent((ev) => this.broadcast({ kind: 'event', ...ev }));
    native.onNotice((n) => this.broadcast({ kind: 'notice', level: n.level, text: n.text }));
  }

  /** Register a runtime port; returns false (and closes it) if it is not one of our panels. */
  accept(port) {
    // Only pages of this extension may drive the host; there is no externally_connectable, but
    // check anyway so a future content script or another extension cannot slip in.
    if (port?.name !== 'panel' || port?.sender?.id !== this.extensionId) {
      try { port?.disconnect?.(); } catch { /* already gone */ }
      return false;
    }
    this.panels.set(port, new Set());
    port.onMessage.addListener((msg) => this._onMessage(port, msg));
    port.onDisconnect.addListener(() => this._drop(port));
    this._post(port, { kind: 'status', status: this.native.status });
    // A panel opening is demand: if the host was missing, try once more (the user may just have
    // run `sidedesk install`); never a loop, one attempt per panel open.
    const state = this.native.status.state;
    if (state === 'install' || state === 'error') this.native.retryNow();
    else this.native.start();
    return true;
  }

  broadcast(msg) {
    for (const port of this.panels.keys()) this._post(port, msg);
  }

  _post(port, msg) {
    try {
      port.postMessage(msg);
    } catch {
      this._drop(port); // the panel closed between our check and the post
    }
  }

  _union() {
    const all = new Set(this.own);
    for (const topics of this.panels.values()) for (const t of topics) all.add(t);
    return all;
  }

  _drop(port) {
    const topics = this.panels.get(port);
    if (!topics) return;
    this.panels.delete(port);
    const still = this._union();
    const orphaned = [...topics].filter((t) => !still.has(t));
    if (orphaned.length) this.native.unwant(orphaned);
  }

  _onMessage(port, msg) {
    const topics = this.panels.get(port);
    if (!topics || msg === null || typeof msg !== 'object' || !KINDS.has(msg.kind)) {
      this._post(port, { kind: 'notice', level: 'error', text: `worker: ignored a malformed panel message` });
      return;
    }
    switch (msg.kind) {
      case 'request': return this._relay(port, msg);
      case 'subscribe': {
        const list = topicList(msg.topics);
        if (!list) return this._post(port, { kind: 'notice', level: 'error', text: 'worker: subscribe needs a list of topic names' });
        for (const t of list) topics.add(t);
        // Always ask the host: it answers with a fresh snapshot that this new panel needs.
        this.native.want(list);
        return undefined;
      }
      case 'unsubscribe': {
        const list = topicList(msg.topics) ?? [];
        for (const t of list) topics.delete(t);
        const still = this._union();
        const orphaned = list.filter((t) => !still.has(t));
        if (orphaned.length) this.native.unwant(orphaned);
        return undefined;
      }
      case 'retry':
        this.native.retryNow();
        return undefined;
      case 'status':
        return this._post(port, { kind: 'status', status: this.native.status });
      default:
        return undefined;
    }
  }

  _relay(port, msg) {
    const { id, type, payload = {}, timeoutMs } = msg;
    if (!(typeof id === 'number' || typeof id === 'string')) {
      return this._post(port, { kind: 'notice', level: 'error', text: 'worker: request without an id' });
    }
    const fail = (code, message) => this._post(port, { kind: 'reply', id, error: { code, message } });
    if (typeof type !== 'string' || !type) return fail('bad_request', 'request without a type');
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      return fail('bad_request', `${type}: payload must be an object`);
    }
    const opts = Number.isFinite(timeoutMs) && timeoutMs > 0 ? { timeoutMs: Math.min(timeoutMs, 600_000) } : {};
    this.native.request(type, payload, opts).then(
      (ok) => { if (this.panels.has(port)) this._post(port, { kind: 'reply', id, ok }); },
      (err) => {
        if (!this.panels.has(port)) return;
        const error = { code: err?.code ?? 'internal', message: String(err?.message ?? err) };
        if (err?.details !== undefined) error.details = err.details;
        this._post(port, { kind: 'reply', id, error });
      },
    );
    return undefined;
  }
}
