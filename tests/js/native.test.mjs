import { test } from 'node:test';
import assert from 'node:assert/strict';

import { backoffDelay } from '../../extension/lib/backoff.js';
import { ChunkAssembler, classifyDisconnect, NativeConnection } from '../../extension/lib/native.js';
import { FakePort, FakeTimers, flush } from './fakes.mjs';

const HELLO_OK = { host_version: '0.1.0', protocol_version: 1, capabilities: ['status'], vault: 'absent', pid: 4242 };

function setup(opts = {}) {
  const timers = new FakeTimers();
  const ports = [];
  const env = { lastError: undefined, connectThrows: null };
  const statuses = [];
  const events = [];
  const notices = [];
  const conn = new NativeConnection({
    connect: () => {
      if (env.connectThrows) throw env.connectThrows;
      const p = new FakePort();
      ports.push(p);
      return p;
    },
    lastError: () => env.lastError,
    timers,
    now: timers.now,
    random: () => 1, // deterministic: the top of the jitter range
    hello: { client: 'test' },
    pingIntervalMs: 5_000,
    timeoutMs: 1_000,
    ...opts,
  });
  conn.onStatus((s) => statuses.push(s));
  conn.onEvent((e) => events.push(e));
  conn.onNotice((n) => notices.push(n));
  return { conn, timers, ports, env, statuses, events, notices };
}

async function connectAndHello(ctx, { hello = HELLO_OK, answerPing = true } = {}) {
  ctx.conn.start();
  const port = ctx.ports.at(-1);
  const req = port.last('hello');
  port.deliver({ v: 1, id: req.id, type: 'hello', ok: hello });
  await flush();
  const ping = port.last('ping');
  assert.ok(ping, 'the first ping follows hello at once');
  if (answerPing) {
    port.deliver({ v: 1, id: ping.id, type: 'ping', ok: { t: ping.payload.t, host_time: 0 } });
    await flush();
  }
  return port;
}

test('backoff grows from 0.5 s, caps at 30 s, and jitters within [ceiling/2, ceiling]', () => {
  assert.equal(backoffDelay(1, { random: () => 1 }), 500);
  assert.equal(backoffDelay(1, { random: () => 0 }), 250);
  assert.equal(backoffDelay(2, { random: () => 1 }), 1000);
  assert.equal(backoffDelay(7, { random: () => 1 }), 30_000);
  assert.equal(backoffDelay(100, { random: () => 1 }), 30_000);
  assert.equal(backoffDelay(100, { random: () => 0 }), 15_000);
  for (let a = 1; a < 40; a++) {
    const d = backoffDelay(a);
    assert.ok(d >= 250 && d <= 30_000, `attempt ${a}: ${d}`);
  }
  assert.equal(backoffDelay(0, { random: () => 1 }), 500, 'attempt < 1 is treated as the first');
});

test('classifyDisconnect maps the Chromium 156 lastError strings', () => {
  const cases = [
    ['Specified native messaging host not found.', true, 'not_found'],
    ['Access to the specified native messaging host is forbidden.', true, 'forbidden'],
    ['Invalid native messaging host name specified.', true, 'invalid_name'],
    ['Native host has exited.', false, 'exited'],
    ['Error when communicating with the native messaging host.', false, 'communication'],
    ['Failed to start native messaging host.', false, 'start_failed'],
    [undefined, false, 'unknown'],
    ['something new', false, 'unknown'],
  ];
  for (const [msg, permanent, reason] of cases) {
    assert.deepEqual(classifyDisconnect(msg), { permanent, reason }, String(msg));
  }
});

test('ChunkAssembler joins pieces in any order and rejects malformed ones', () => {
  const text = JSON.stringify({ v: 1, id: 7, type: 'stats', ok: { big: 'x'.repeat(50) } });
  const parts = [text.slice(0, 10), text.slice(10, 30), text.slice(30)];
  const a = new ChunkAssembler();
  assert.deepEqual(a.feed({ type: 'chunk', chunk_id: 1, index: 2, count: 3, data: parts[2] }), {});
  assert.deepEqual(a.feed({ type: 'chunk', chunk_id: 1, index: 0, count: 3, data: parts[0] }), {});
  const done = a.feed({ type: 'chunk', chunk_id: 1, index: 1, count: 3, data: parts[1] });
  assert.deepEqual(done.message, JSON.parse(text));
  assert.equal(a.open.size, 0);

  assert.match(a.feed({ type: 'chunk', chunk_id: 2, index: 3, count: 3, data: '' }).error, /malformed/);
  a.feed({ type: 'chunk', chunk_id: 3, index: 0, count: 2, data: '{' });
  assert.match(a.feed({ type: 'chunk', chunk_id: 3, index: 1, count: 5, data: '}' }).error, /inconsistent/);
  a.feed({ type: 'chunk', chunk_id: 4, index: 0, count: 2, data: '{"a":' });
  assert.match(a.feed({ type: 'chunk', chunk_id: 4, index: 1, count: 2, data: '}' }).error, /not valid JSON/);
  assert.match(a.feed({ type: 'chunk', chunk_id: 5, index: 0, count: 1, data: '[1]' }).error, /not a JSON object/);

  const small = new ChunkAssembler({ maxOpen: 2 });
  for (let id = 1; id <= 3; id++) small.feed({ type: 'chunk', chunk_id: id, index: 0, count: 2, data: '{' });
  assert.deepEqual([...small.open.keys()], [2, 3], 'the oldest unfinished message is abandoned');
});

test('connect sends hello, then reports connected with the host version and pid', async () => {
  const ctx = setup();
  ctx.conn.start();
  assert.equal(ctx.statuses.at(-1).state, 'connecting');
  const port = ctx.ports[0];
  const hello = port.sent[0];
  assert.deepEqual(hello, { v: 1, id: hello.id, type: 'hello', payload: { client: 'test' } });
  port.deliver({ v: 1, id: hello.id, type: 'hello', ok: HELLO_OK });
  await flush();
  const s = ctx.conn.status;
  assert.equal(s.state, 'connected');
  assert.equal(s.hostVersion, '0.1.0');
  assert.equal(s.protocolVersion, 1);
  assert.equal(s.pid, 4242);
  assert.equal(s.vault, 'absent');
  ctx.conn.start();
  assert.equal(ctx.ports.length, 1, 'start() is idempotent');
});

test('request resolves with ok, rejects with the host error code, message and details', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx);
  assert.equal(ctx.conn.pendingCount, 0, 'hello and the first ping answered');
  const p1 = ctx.conn.request('stats');
  const p2 = ctx.conn.request('command', { name: 'buy' });
  const [r1, r2] = [port.last('stats'), port.last('command')];
  assert.notEqual(r1.id, r2.id);
  port.deliver({ v: 1, id: r2.id, type: 'command', error: { code: 'unknown_type', message: "unknown message type 'command'", details: { known: ['hello'] } } });
  port.deliver({ v: 1, id: r1.id, type: 'stats', ok: { frames_in: 3 } });
  assert.deepEqual(await p1, { frames_in: 3 });
  await assert.rejects(p2, (e) => e.code === 'unknown_type' && e.message === "unknown message type 'command'" && e.details.known[0] === 'hello');
  assert.equal(ctx.conn.pendingCount, 0);
});

test('a request without an answer times out; the late answer is ignored', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx);
  const p = ctx.conn.request('stats', {}, { timeoutMs: 300 });
  const id = port.last('stats').id;
  ctx.timers.advance(299);
  await flush();
  assert.equal(ctx.conn.pendingCount, 1);
  ctx.timers.advance(1);
  await assert.rejects(p, (e) => e.code === 'timeout' && /0.3 s/.test(e.message));
  port.deliver({ v: 1, id, type: 'stats', ok: {} });
  assert.equal(ctx.conn.lateReplies, 1);
});

test('a chunked reply is reassembled before it resolves the request', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx);
  const p = ctx.conn.request('stats');
  const id = port.last('stats').id;
  const text = JSON.stringify({ v: 1, id, type: 'stats', ok: { blob: 'é'.repeat(1000) } });
  const half = Math.floor(text.length / 2);
  port.deliver({ v: 1, type: 'chunk', chunk_id: 9, index: 0, count: 2, data: text.slice(0, half) });
  port.deliver({ v: 1, type: 'chunk', chunk_id: 9, index: 1, count: 2, data: text.slice(half) });
  assert.equal((await p).blob.length, 1000);
});

test('disconnect rejects every pending request; transient errors reconnect with growing backoff', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx);
  const pending = [ctx.conn.request('stats'), ctx.conn.request('ping', {})];
  ctx.env.lastError = 'Native host has exited.';
  port.drop();
  for (const p of pending) await assert.rejects(p, (e) => e.code === 'disconnected' && /Native host has exited/.test(e.message));
  let s = ctx.conn.status;
  assert.equal(s.state, 'reconnecting');
  assert.equal(s.attempt, 1);
  assert.equal(s.reason, 'exited');
  assert.equal(s.nextRetryMs, 500);
  assert.equal(s.hostVersion, null, 'stale host facts are cleared');
  await assert.rejects(ctx.conn.request('stats'), (e) => e.code === 'disconnected' && /attempt 1/.test(e.message));

  ctx.timers.advance(499);
  assert.equal(ctx.ports.length, 1);
  ctx.timers.advance(1);
  assert.equal(ctx.ports.length, 2, 'reconnected after the backoff');
  assert.equal(ctx.conn.status.state, 'reconnecting');
  // The new host dies at once as well: the next wait doubles.
  ctx.env.lastError = 'Error when communicating with the native messaging host.';
  ctx.ports[1].drop();
  s = ctx.conn.status;
  assert.equal(s.attempt, 2);
  assert.equal(s.reason, 'communication');
  assert.equal(s.nextRetryMs, 1000);
  ctx.timers.advance(1000);
  assert.equal(ctx.ports.length, 3);
  const hello = ctx.ports[2].last('hello');
  ctx.ports[2].deliver({ v: 1, id: hello.id, type: 'hello', ok: { ...HELLO_OK, pid: 5000 } });
  await flush();
  s = ctx.conn.status;
  assert.equal(s.state, 'connected');
  assert.equal(s.attempt, 0);
  assert.equal(s.pid, 5000);
});

test('a host that dies soon after hello keeps backing off instead of retrying every half second', async () => {
  const ctx = setup({ stableAfterMs: 10_000 });
  let port = await connectAndHello(ctx);
  ctx.env.lastError = 'Native host has exited.';
  const delays = [];
  for (let i = 0; i < 4; i++) {
    port.drop();
    delays.push(ctx.conn.status.nextRetryMs);
    ctx.timers.advance(ctx.conn.status.nextRetryMs);
    port = ctx.ports.at(-1);
    port.deliver({ v: 1, id: port.last('hello').id, type: 'hello', ok: HELLO_OK });
    await flush();
    assert.equal(ctx.conn.status.state, 'connected');
  }
  assert.deepEqual(delays, [500, 1000, 2000, 4000]);
  // After a stable period the count starts over.
  ctx.timers.advance(10_000);
  port.drop();
  assert.equal(ctx.conn.status.nextRetryMs, 500);
});

test('not found / forbidden / invalid name: install state, and no retry loop', async () => {
  for (const [msg, reason] of [
    ['Specified native messaging host not found.', 'not_found'],
    ['Access to the specified native messaging host is forbidden.', 'forbidden'],
    ['Invalid native messaging host name specified.', 'invalid_name'],
  ]) {
    const ctx = setup();
    ctx.conn.start();
    const pendingHello = ctx.ports[0].last('hello');
    assert.ok(pendingHello);
    ctx.env.lastError = msg;
    ctx.ports[0].drop();
    const s = ctx.conn.status;
    assert.equal(s.state, 'install');
    assert.equal(s.reason, reason);
    assert.equal(s.message, msg);
    ctx.timers.advance(10 * 60_000);
    assert.equal(ctx.ports.length, 1, 'no reconnect attempts');
    assert.equal(ctx.timers.pending, 0, 'no timers left behind');
    // The user fixed it and pressed Retry.
    ctx.conn.retryNow();
    assert.equal(ctx.ports.length, 2);
    assert.equal(ctx.conn.status.state, 'connecting');
  }
});

test('connectNative throwing synchronously is an error state, not a crash', () => {
  const ctx = setup();
  ctx.env.connectThrows = new Error("'nativeMessaging' permission is required");
  ctx.conn.start();
  assert.equal(ctx.conn.status.state, 'error');
  assert.match(ctx.conn.status.message, /permission/);
});

test('hello answered with an error shows it; a silent host is dropped and retried', async () => {
  const ctx = setup();
  ctx.conn.start();
  const port = ctx.ports[0];
  port.deliver({ v: 1, id: port.last('hello').id, type: 'hello', error: { code: 'bad_request', message: 'unsupported protocol version 1' } });
  await flush();
  assert.equal(ctx.conn.status.state, 'error');
  assert.match(ctx.conn.status.message, /unsupported protocol version/);
  ctx.conn.retryNow();
  assert.ok(port.disconnected, 'Retry replaces the refused port');
  assert.equal(ctx.ports.length, 2);
  assert.equal(ctx.conn.status.state, 'connecting');

  const ctx2 = setup();
  ctx2.conn.start();
  ctx2.timers.advance(1_000);
  await flush();
  assert.ok(ctx2.ports[0].disconnected, 'the silent port was closed');
  assert.equal(ctx2.conn.status.state, 'reconnecting');
  assert.match(ctx2.conn.status.message, /did not answer hello/);
});

test('ping measures the round trip and reports the previous one in the next ping', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx, { answerPing: false });
  const first = port.last('ping');
  assert.equal(first.payload.rtt_ms, undefined, 'no measurement yet');
  ctx.timers.advance(3);
  port.deliver({ v: 1, id: first.id, type: 'ping', ok: { t: first.payload.t, host_time: 1 } });
  await flush();
  assert.equal(ctx.conn.status.rttMs, 3);
  ctx.timers.advance(5_000);
  const second = port.last('ping');
  assert.notEqual(second.id, first.id);
  assert.equal(second.payload.rtt_ms, 3);
  // A disconnect stops the pings.
  ctx.env.lastError = 'Specified native messaging host not found.';
  port.drop();
  const count = port.sent.length;
  ctx.timers.advance(60_000);
  assert.equal(port.sent.length, count);
});

test('topics: subscribed on connect, snapshots emitted, re-subscribed after a reconnect', async () => {
  const ctx = setup();
  ctx.conn.want(['status']);
  let port = await connectAndHello(ctx);
  let sub = port.last('subscribe');
  assert.deepEqual(sub.payload, { topics: ['status'] });
  port.deliver({ v: 1, id: sub.id, type: 'subscribe', ok: { snapshots: { status: { seq: 0, payload: { pid: 1 } } } } });
  await flush();
  assert.deepEqual(ctx.events.at(-1), { topic: 'status', seq: 0, payload: { pid: 1 }, snapshot: true });
  port.deliver({ v: 1, type: 'event', topic: 'status', seq: 1, payload: { pid: 1, uptime_s: 5 } });
  assert.deepEqual(ctx.events.at(-1), { topic: 'status', seq: 1, payload: { pid: 1, uptime_s: 5 }, snapshot: false });

  ctx.conn.want(['positions']);
  assert.deepEqual(port.last('subscribe').payload, { topics: ['positions'] });
  ctx.conn.unwant(['positions']);
  assert.deepEqual(port.last('unsubscribe').payload, { topics: ['positions'] });

  ctx.env.lastError = 'Native host has exited.';
  port.drop();
  ctx.timers.advance(500);
  port = await (async () => {
    const p = ctx.ports.at(-1);
    p.deliver({ v: 1, id: p.last('hello').id, type: 'hello', ok: HELLO_OK });
    await flush();
    return p;
  })();
  sub = port.last('subscribe');
  assert.deepEqual(sub.payload, { topics: ['status'] }, 'the wanted topics, not the dropped one');
});

test('unattributable host errors and non-object frames become notices', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx);
  port.deliver({ v: 1, id: null, type: '', error: { code: 'bad_request', message: 'invalid JSON' } });
  port.deliver('text');
  assert.deepEqual(ctx.notices.map((n) => n.level), ['error', 'error']);
  assert.match(ctx.notices[0].text, /invalid JSON/);
});

test('postMessage failures reject the request instead of throwing', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx);
  port.throwOnPost = new Error('Message exceeded maximum allowed size of 64MiB.');
  await assert.rejects(ctx.conn.request('big', {}), (e) => e.code === 'invalid' && /64MiB/.test(e.message));
  assert.equal(ctx.conn.pendingCount, 0);
});

test('stop() rejects pending requests and closes the port', async () => {
  const ctx = setup();
  const port = await connectAndHello(ctx);
  const p = ctx.conn.request('stats');
  ctx.conn.stop();
  await assert.rejects(p, (e) => e.code === 'disconnected');
  assert.ok(port.disconnected);
  assert.equal(ctx.timers.pending, 0);
});

test('a batch frame delivers each of its events in order, with their own seq', async () => {
  const ctx = setup();
  ctx.conn.start();
  const port = ctx.ports[0];
  port.deliver({ v: 1, id: port.sent[0].id, type: 'hello', ok: HELLO_OK });
  await flush();
  port.deliver({
    v: 1,
    type: 'batch',
    events: [
      { v: 1, type: 'event', topic: 'quotes', seq: 7, payload: { q: 1 } },
      { v: 1, type: 'event', topic: 'positions', seq: 3, payload: { p: 1 } },
    ],
  });
  await flush();
  const got = ctx.events.filter((e) => e.topic === 'quotes' || e.topic === 'positions');
  assert.deepEqual(got.map((e) => [e.topic, e.seq]), [['quotes', 7], ['positions', 3]]);
});
