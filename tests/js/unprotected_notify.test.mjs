// Desktop notifications for unprotected positions (issue #20): the service worker follows the
// host's status topic itself (no panel needed), notifies once per position per episode, clears the
// notification when the position is protected again, and a click opens the panel on the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeEvent, FakePort, flush } from './fakes.mjs';
import { FIX_KEY, NOTIFICATION_PREFIX, NOTIFIED_KEY, UnprotectedNotifier, fixOf } from '../../extension/lib/unprotected.js';

const BTC = { account_id: 'acc', symbol: 'BTCUSDT', position_side: 'BOTH', quantity: '0.010', reason: 'locked', fix: 'unlock to resume protection' };
const ETH = { account_id: 'acc', symbol: 'ETHUSDT', position_side: 'LONG', quantity: '1', reason: 'asl_off', fix: 'turn ASL on for it' };

test('notifier: once per position per episode, cleared when protected, again on a new episode', () => {
  const n = new UnprotectedNotifier();
  let out = n.update([BTC]);
  assert.deepEqual(out.show.map((s) => s.id), [`${NOTIFICATION_PREFIX}acc|BTCUSDT|BOTH`]);
  assert.equal(out.show[0].button, 'Unlock');
  assert.match(out.show[0].title, /unprotected: BTCUSDT 0\.010/);
  assert.match(out.show[0].message, /unlock to resume protection/);
  for (let i = 0; i < 5; i++) assert.deepEqual(n.update([BTC]), { show: [], clear: [] }); // every status push
  out = n.update([BTC, ETH]);
  assert.deepEqual(out.show.map((s) => s.title), ['Sidedesk — unprotected: ETHUSDT LONG 1']);
  out = n.update([ETH]);
  assert.deepEqual(out, { show: [], clear: [`${NOTIFICATION_PREFIX}acc|BTCUSDT|BOTH`] });
  assert.equal(n.fixFor(`${NOTIFICATION_PREFIX}acc|BTCUSDT|BOTH`), null);
  assert.equal(n.fixFor(`${NOTIFICATION_PREFIX}acc|ETHUSDT|LONG`).focus, 'asl');
  // the same position, unprotected once more: a new episode
  assert.equal(n.update([BTC, ETH]).show.length, 1);
  // the reason changes within an episode: no new notification, but a click fixes today's reason
  assert.deepEqual(n.update([{ ...BTC, reason: 'link_down' }, ETH]).show, []);
  assert.equal(n.fixFor(`${NOTIFICATION_PREFIX}acc|BTCUSDT|BOTH`).label, 'Reconnect');
  assert.deepEqual(n.update([]).clear.length, 2);
  assert.deepEqual(n.update(null), { show: [], clear: [] });
});

test('notifier: episodes kept across a worker restart are not notified again', () => {
  const before = new UnprotectedNotifier();
  before.update([BTC]);
  const after = new UnprotectedNotifier(before.keys());
  assert.deepEqual(after.update([BTC]).show, []);
  assert.equal(after.update([]).clear.length, 1);
  assert.deepEqual(Object.keys(fixOf({ reason: 'stop_missing' })).sort(), ['focus', 'label', 'reason', 'tab', 'text']);
});

// -- the worker itself, under a fake chrome ----------------------------------------------------------

function fakeChrome() {
  const hostPorts = [];
  const session = {};
  const calls = { created: [], cleared: [], panels: [], tabs: [] };
  const onClicked = new FakeEvent();
  const onButtonClicked = new FakeEvent();
  const autoHost = (port) => {
    port.postMessage = (msg) => {
      port.sent.push(structuredClone(msg));
      const reply = (ok) => queueMicrotask(() => port.deliver({ v: 1, id: msg.id, type: msg.type, ok }));
      if (msg.type === 'hello') reply({ host_version: '0.1.0', protocol_version: 1, capabilities: [], vault: 'locked', pid: 7 });
      else if (msg.type === 'subscribe') reply({ snapshots: Object.fromEntries(msg.payload.topics.map((t) => [t, { seq: 1, payload: { unprotected: [] } }])) });
      else reply({});
    };
    return port;
  };
  const chrome = {
    runtime: {
      id: 'ext', lastError: undefined, getManifest: () => ({ version: '0.1.0' }), getURL: (p) => `chrome-extension://ext/${p}`,
      connectNative: () => { const p = autoHost(new FakePort()); hostPorts.push(p); return p; },
      onConnect: new FakeEvent(), onMessage: new FakeEvent(), onInstalled: new FakeEvent(),
    },
    storage: {
      local: { get: async () => ({}), set: async () => {} },
      session: {
        get: async (k) => ({ [k]: session[k] }),
        set: async (o) => { Object.assign(session, structuredClone(o)); },
        remove: async (k) => { delete session[k]; },
      },
      onChanged: new FakeEvent(),
    },
    notifications: {
      create: async (id, opts) => { calls.created.push({ id, ...opts }); return id; },
      clear: async (id) => { calls.cleared.push(id); return true; },
      onClicked, onButtonClicked,
    },
    action: { setBadgeText: async () => {}, setBadgeBackgroundColor: async () => {}, setTitle: async () => {} },
    commands: { onCommand: new FakeEvent() },
    sidePanel: {
      setPanelBehavior: async () => {},
      open: async (o) => { calls.panels.push(o); },
    },
    windows: { WINDOW_ID_CURRENT: -2, getLastFocused: async () => ({ id: 1 }) },
    tabs: { create: async (o) => { calls.tabs.push(o); } },
  };
  return { chrome, hostPorts, session, calls, onClicked, onButtonClicked };
}

test('the worker: its own status subscription, one notification per episode, cleared, click opens the fix', async () => {
  const fake = fakeChrome();
  globalThis.chrome = fake.chrome;
  await import('../../extension/background/worker.js');
  for (let i = 0; i < 5; i++) await flush();
  const host = fake.hostPorts[0];
  assert.ok(host, 'the worker opened the native port');
  const subscribed = host.sent.filter((m) => m.type === 'subscribe').flatMap((m) => m.payload.topics);
  assert.deepEqual(subscribed, ['status'], 'the worker follows the status topic with no panel open');
  const push = async (seq, rows) => {
    host.deliver({ v: 1, type: 'event', topic: 'status', seq, payload: { vault: 'locked', unprotected: rows } });
    for (let i = 0; i < 5; i++) await flush();
  };
  await push(2, [BTC]);
  await push(3, [BTC]);
  await push(4, [BTC]);
  assert.equal(fake.calls.created.length, 1, 'one notification, not one per status push');
  const n = fake.calls.created[0];
  assert.equal(n.id, `${NOTIFICATION_PREFIX}acc|BTCUSDT|BOTH`);
  assert.deepEqual(n.buttons, [{ title: 'Unlock' }]);
  assert.equal(n.requireInteraction, true);
  assert.deepEqual(fake.session[NOTIFIED_KEY], ['acc|BTCUSDT|BOTH']);
  // a click: the side panel opens and is told which control fixes it
  fake.onClicked.fire(n.id);
  for (let i = 0; i < 5; i++) await flush();
  assert.equal(fake.calls.panels.length, 1);
  assert.deepEqual({ tab: fake.session[FIX_KEY].tab, focus: fake.session[FIX_KEY].focus }, { tab: 'setup', focus: 'vault' });
  fake.onClicked.fire('some-other-notification'); // not ours: ignored
  for (let i = 0; i < 5; i++) await flush();
  assert.equal(fake.calls.panels.length, 1);
  // protected again: the notification goes
  await push(5, []);
  assert.deepEqual(fake.calls.cleared, [n.id]);
  assert.deepEqual(fake.session[NOTIFIED_KEY], []);
  await push(6, []);
  assert.equal(fake.calls.cleared.length, 1);
  // unprotected again later: a new episode, a new notification
  await push(7, [BTC]);
  assert.equal(fake.calls.created.length, 2);
  // a panel that could not be opened as a side panel opens as a tab on the fix
  fake.chrome.sidePanel.open = async () => { throw new Error('needs a user gesture'); };
  fake.onButtonClicked.fire(n.id);
  for (let i = 0; i < 10; i++) await flush();
  assert.deepEqual(fake.calls.tabs.map((t) => t.url), ['chrome-extension://ext/sidepanel/panel.html?tab=setup&fix=vault']);
  globalThis.sidedesk.native.stop(); // its ping timer would keep node running
});
