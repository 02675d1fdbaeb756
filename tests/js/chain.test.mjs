// Panel HostClient <-> worker PanelHub <-> NativeConnection <-> fake host port, all in memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { HostClient } from '../../extension/lib/client.js';
import { PanelHub } from '../../extension/lib/hub.js';
import { NativeConnection } from '../../extension/lib/native.js';
import { FakePort, FakeTimers, flush, linkedPorts } from './fakes.mjs';

const EXT = 'idfckbhoeeblehnacblcaifkofcekcnk';
const HELLO_OK = { host_version: '0.1.0', protocol_version: 1, capabilities: [], vault: 'absent', pid: 11 };

/** A tiny scripted host: answers hello/ping/subscribe/stats; unknown types get unknown_type. */
function autoHost(port, { pid = 11 } = {}) {
  const seen = [];
  port.postMessage = (msg) => {
    if (port.disconnected) throw new Error('Attempting to use a disconnected port object');
    seen.push(msg);
    port.sent.push(structuredClone(msg));
    const reply = (body) => queueMicrotask(() => port.deliver({ v: 1, id: msg.id, type: msg.type, ...body }));
    switch (msg.type) {
      case 'hello': return reply({ ok: { ...HELLO_OK, pid } });
      case 'ping': return reply({ ok: { t: msg.payload.t, host_time: 0 } });
      case 'subscribe':
        return reply({ ok: { snapshots: Object.fromEntries(msg.payload.topics.map((t) => [t, { seq: 4, payload: { snap: t } }])) } });
      case 'unsubscribe': return reply({ ok: { topics: [] } });
      case 'stats': return reply({ ok: { frames_in: seen.length } });
      case 'slow': return undefined;
      default: return reply({ error: { code: 'unknown_type', message: `unknown message type '${msg.type}'` } });
    }
  };
  return seen;
}

function world() {
  const timers = new FakeTimers();
  const hostPorts = [];
  const env = { lastError: undefined };
  const native = new NativeConnection({
    connect: () => { const p = new FakePort(); autoHost(p, { pid: 10 + hostPorts.length + 1 }); hostPorts.push(p); return p; },
    lastError: () => env.lastError,
    timers, now: timers.now, random: () => 1, timeoutMs: 1_000,
  });
  const hub = new PanelHub(native, { extensionId: EXT });
  const workerPorts = [];
  const runtime = {
    connect: ({ name }) => {
      const { panel, worker } = linkedPorts({ name, sender: { id: EXT } });
      workerPorts.push(worker);
      hub.accept(worker);
      return panel;
    },
  };
  const newClient = () => new HostClient({ runtime, timers, timeoutMs: 1_000 });
  return { timers, hostPorts, env, native, hub, workerPorts, runtime, newClient };
}

test('a panel gets the status on connect and sees "connected" with the host version', async () => {
  const w = world();
  const client = w.newClient();
  const seen = [];
  client.onStatus((s) => seen.push(s.state));
  await flush();
  assert.equal(client.status.state, 'connected');
  assert.equal(client.status.hostVersion, '0.1.0');
  assert.equal(client.status.pid, 11);
  assert.equal(w.hostPorts.length, 1, 'the panel connect started the native port');
  assert.ok(seen.includes('connected'));
});

test('requests relay through the worker; host errors keep code, message and details', async () => {
  const w = world();
  const client = w.newClient();
  await flush();
  const stats = await client.request('stats');
  assert.ok(stats.frames_in >= 3, 'hello, ping and stats reached the host');
  await assert.rejects(client.request('command', { name: 'buy' }),
    (e) => e.code === 'unknown_type' && e.message === "unknown message type 'command'");
});

test('request timeout and worker-side validation', async () => {
  const w = world();
  const client = w.newClient();
  await flush();
  const p = client.request('slow', {}, { timeoutMs: 200 });
  await flush();
  w.timers.advance(200);
  await assert.rejects(p, (e) => e.code === 'timeout');
  await assert.rejects(client.request('stats', [1, 2]), (e) => e.code === 'bad_request' && /payload must be an object/.test(e.message));
});

test('topics: first listener subscribes and receives the snapshot, events fan out to every panel', async () => {
  const w = world();
  const a = w.newClient();
  const b = w.newClient();
  const gotA = [];
  const gotB = [];
  a.on('status', (payload, seq, meta) => gotA.push([payload, seq, meta.snapshot]));
  b.on('status', (payload, seq) => gotB.push([payload, seq]));
  await flush();
  assert.deepEqual(gotA[0], [{ snap: 'status' }, 4, true]);
  w.hostPorts[0].deliver({ v: 1, type: 'event', topic: 'status', seq: 5, payload: { n: 5 } });
  await flush();
  assert.deepEqual(gotA.at(-1), [{ n: 5 }, 5, false]);
  assert.deepEqual(gotB.at(-1), [{ n: 5 }, 5]);
  // A duplicate (seq already seen) is not delivered twice.
  w.hostPorts[0].deliver({ v: 1, type: 'event', topic: 'status', seq: 5, payload: { n: 5 } });
  await flush();
  assert.equal(gotA.filter(([, seq]) => seq === 5).length, 1);
  // A gap triggers a re-subscribe (fresh snapshot) and still delivers the event.
  const before = w.hostPorts[0].sent.length;
  w.hostPorts[0].deliver({ v: 1, type: 'event', topic: 'status', seq: 9, payload: { n: 9 } });
  await flush();
  assert.deepEqual(gotA.at(-1)[0], { snap: 'status' }, 'snapshot after the gap');
  assert.ok(w.hostPorts[0].sent.length > before);
});

test('the host stays subscribed while any panel wants a topic', async () => {
  const w = world();
  const a = w.newClient();
  const b = w.newClient();
  const offA = a.on('positions', () => {});
  const offB = b.on('positions', () => {});
  await flush();
  assert.deepEqual([...w.native.wanted], ['positions']);
  offA();
  await flush();
  assert.deepEqual([...w.native.wanted], ['positions'], 'panel b still wants it');
  offB();
  await flush();
  assert.deepEqual([...w.native.wanted], []);
  const unsub = w.hostPorts[0].last('unsubscribe');
  assert.deepEqual(unsub.payload, { topics: ['positions'] });
  // Closing a panel drops its topics too.
  b.on('orders', () => {});
  await flush();
  b.close();
  await flush();
  assert.deepEqual([...w.native.wanted], []);
});

test('host crash: pending panel requests fail as disconnected, panels see reconnecting then connected', async () => {
  const w = world();
  const client = w.newClient();
  const states = [];
  client.onStatus((s) => states.push(`${s.state}:${s.attempt}:${s.pid}`));
  await flush();
  const p = client.request('slow');
  await flush();
  w.env.lastError = 'Native host has exited.';
  w.hostPorts[0].drop();
  await assert.rejects(p, (e) => e.code === 'disconnected' && /Native host has exited/.test(e.message));
  assert.equal(client.status.state, 'reconnecting');
  assert.equal(client.status.attempt, 1);
  w.timers.advance(500);
  await flush();
  assert.equal(client.status.state, 'connected');
  assert.equal(client.status.pid, 12, 'a new host process');
  assert.ok(states.includes('reconnecting:1:null'));
});

test('install state is shown; a newly opened panel triggers exactly one retry', async () => {
  const w = world();
  w.native.start();
  w.env.lastError = 'Specified native messaging host not found.';
  w.hostPorts[0].drop();
  assert.equal(w.native.status.state, 'install');
  const client = w.newClient();
  await flush();
  assert.equal(w.hostPorts.length, 2, 'one attempt because a panel opened');
  assert.equal(client.status.state, 'connected', 'the user had fixed it in the meantime');
  w.env.lastError = 'Access to the specified native messaging host is forbidden.';
  w.hostPorts[1].drop();
  await flush();
  assert.equal(client.status.state, 'install');
  assert.equal(client.status.reason, 'forbidden');
  w.timers.advance(120_000);
  assert.equal(w.hostPorts.length, 2, 'no retry loop');
  client.retry();
  await flush();
  assert.equal(w.hostPorts.length, 3);
});

test('ports from other extensions or with another name are refused', () => {
  const w = world();
  const foreign = linkedPorts({ name: 'panel', sender: { id: 'someone-else' } }).worker;
  assert.equal(w.hub.accept(foreign), false);
  assert.ok(foreign.closed);
  const misnamed = linkedPorts({ name: 'x', sender: { id: EXT } }).worker;
  assert.equal(w.hub.accept(misnamed), false);
  assert.equal(w.hub.panels.size, 0);
});

test('malformed panel messages get a notice, not a crash', async () => {
  const w = world();
  const { panel, worker } = linkedPorts({ name: 'panel', sender: { id: EXT } });
  w.hub.accept(worker);
  const got = [];
  panel.onMessage.addListener((m) => got.push(m));
  for (const bad of [null, 'x', { kind: 'nope' }, { kind: 'subscribe', topics: 'status' }, { kind: 'request', type: 'stats' }]) {
    panel.postMessage(bad);
  }
  await flush();
  const notices = got.filter((m) => m.kind === 'notice');
  assert.equal(notices.length, 5);
  assert.ok(notices.every((n) => n.level === 'error'));
});

test('the panel reconnects to a restarted worker, re-subscribes, and fails its pending requests', async () => {
  const w = world();
  const client = w.newClient();
  const got = [];
  client.on('status', (p) => got.push(p));
  await flush();
  const p = client.request('slow');
  await flush();
  // The worker went away (e.g. the extension's service worker was stopped).
  const oldWorkerPort = w.workerPorts[0];
  oldWorkerPort.disconnect();
  await flush();
  await assert.rejects(p, (e) => e.code === 'disconnected');
  assert.equal(client.status.state, 'connecting');
  w.timers.advance(100);
  await flush();
  assert.equal(w.workerPorts.length, 2);
  assert.equal(client.status.state, 'connected');
  assert.equal(got.length, 2, 'a fresh snapshot after re-subscribing');
});

test('HostClient reports a lost extension context instead of throwing', () => {
  const client = new HostClient({ runtime: { connect: () => { throw new Error('Extension context invalidated.'); } } });
  assert.equal(client.status.state, 'error');
  assert.match(client.status.message, /Extension context invalidated/);
  return assert.rejects(client.request('stats'), (e) => e.code === 'disconnected');
});
