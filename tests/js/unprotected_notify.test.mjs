// Desktop notifications for unprotected positions (issue #20): the service worker follows the
// host's status topic itself (no panel needed), notifies once per position per episode, clears the
// notification when the position is protected again, and a click opens the panel on the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeEvent, FakePort, flush } from './fakes.mjs';
import {
  FIX_KEY, NOTIFICATION_PREFIX, NOTIFIED_KEY, UnprotectedNotifier, accountLabel, fixOf, notificationFor,
} from '../../extension/lib/unprotected.js';

const BTC = { account_id: 'acc', symbol: 'BTCUSDT', position_side: 'BOTH', quantity: '0.010', reason: 'locked', fix: 'unlock to resume protection' };
const ACCOUNTS = [
  { id: 'e1:700001', name: 'Apex', account_name: 'DEMO700001' },
  { id: 'e1:700002', name: 'Apex', account_name: 'DEMO700002' },
];
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
  assert.deepEqual(out.show.map((s) => s.title), ['Sidedesk — unprotected: ETHUSDT LONG 1 on acc']);
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
      else if (msg.type === 'accounts.list') reply({ accounts: ACCOUNTS, active_id: ACCOUNTS[0].id });
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

test('a notification names its account (the entry and the venue\'s name), from accounts.list or the status', () => {
  assert.equal(accountLabel('e1:700002', ACCOUNTS), 'Apex · DEMO700002');
  assert.equal(accountLabel('acc', [{ id: 'acc', name: 'Sim main', account_name: '' }]), 'Sim main');
  assert.equal(accountLabel('e1:700003', ACCOUNTS, [{ account_id: 'e1:700003', account_name: 'DEMO700003' }]), 'DEMO700003');
  assert.equal(accountLabel('e9', ACCOUNTS, []), 'e9');
  const n = notificationFor({ ...BTC, account_id: 'e1:700002' }, 'Apex · DEMO700002');
  assert.equal(n.title, 'Sidedesk — unprotected: BTCUSDT 0.010 on Apex · DEMO700002');
  assert.match(n.message, /on account Apex · DEMO700002: unlock to resume protection/);
  assert.equal(n.fix.account_id, 'e1:700002');
  const notifier = new UnprotectedNotifier();
  const shown = notifier.update([{ ...ETH, account_id: 'e1:700001' }], (id) => accountLabel(id, ACCOUNTS));
  assert.match(shown.show[0].title, /ETHUSDT LONG 1 on Apex · DEMO700001$/);
  assert.equal(notifier.fixFor(shown.show[0].id).account_id, 'e1:700001');
});

test('the worker names the account, and a click makes that account active before the panel focuses the fix', async () => {
  const fake = fakeChrome();
  globalThis.chrome = fake.chrome;
  await import('../../extension/background/worker.js?accounts'); // a fresh worker, as after a restart
  for (let i = 0; i < 5; i++) await flush();
  const host = fake.hostPorts[0];
  const brokers = ACCOUNTS.map((a, i) => ({ account_id: a.id, account_name: a.account_name, active: i === 0, state: 'live' }));
  const row = { account_id: 'e1:700002', symbol: 'MESZ6', position_side: 'BOTH', quantity: '1', reason: 'stop_missing', fix: 'flatten it' };
  host.deliver({ v: 1, type: 'event', topic: 'status', seq: 2, payload: { vault: 'unlocked', brokers, unprotected: [row] } });
  for (let i = 0; i < 10; i++) await flush();
  assert.equal(fake.calls.created.length, 1);
  const n = fake.calls.created[0];
  assert.equal(n.title, 'Sidedesk — unprotected: MESZ6 1 on Apex · DEMO700002');
  assert.match(n.message, /Apex · DEMO700002/);
  // the click: the panel opens at once (the user gesture), the account is made active, then the fix
  const sent = () => host.sent.map((m) => m.type);
  const at = (type) => sent().lastIndexOf(type);
  const storedFix = [];
  const set = fake.chrome.storage.session.set;
  fake.chrome.storage.session.set = async (o) => {
    if (o[FIX_KEY]) storedFix.push({ fix: o[FIX_KEY], after: sent().length });
    return set(o);
  };
  fake.onButtonClicked.fire(n.id);
  assert.equal(fake.calls.panels.length, 1, 'the side panel is opened within the click');
  for (let i = 0; i < 10; i++) await flush();
  const activate = host.sent.find((m) => m.type === 'accounts.activate');
  assert.deepEqual(activate?.payload, { account_id: 'e1:700002' });
  assert.equal(storedFix.length, 1);
  assert.ok(storedFix[0].after > at('accounts.activate'), 'the fix is passed on after the switch');
  assert.deepEqual({ tab: storedFix[0].fix.tab, focus: storedFix[0].fix.focus }, { tab: 'trade', focus: 'flatten' });
  // an Unlock is the vault's: no switch
  const before = host.sent.filter((m) => m.type === 'accounts.activate').length;
  host.deliver({ v: 1, type: 'event', topic: 'status', seq: 3, payload: { vault: 'locked', brokers, unprotected: [{ ...row, symbol: 'MNQZ6', reason: 'locked' }] } });
  for (let i = 0; i < 10; i++) await flush();
  fake.onClicked.fire(fake.calls.created.at(-1).id);
  for (let i = 0; i < 10; i++) await flush();
  assert.equal(host.sent.filter((m) => m.type === 'accounts.activate').length, before);
  assert.equal(fake.session[FIX_KEY].focus, 'vault');
  globalThis.sidedesk.native.stop();
});
