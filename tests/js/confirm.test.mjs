// Hotkey orders above the confirmation threshold (issue #21): the host answers "confirm" and
// sends nothing; the worker keeps the order in chrome.storage.session and asks; the ticket and the
// minimised bar show Confirm / Cancel; the first answer goes back to the worker, which sends the
// same ticket with confirmed: true exactly once (or drops it). Before, the hotkey was refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeClient, installDom, settle } from './dom_harness.mjs';
import { FakeEvent, FakePort } from './fakes.mjs';

const dom = installDom();

// chrome.storage.session and runtime messaging on top of the harness's chrome stub
const session = {};
const sessionArea = {
  get: async (key) => (typeof key === 'string' ? { [key]: session[key] } : { ...session }),
  set: async (obj) => {
    const changes = {};
    for (const [k, v] of Object.entries(obj)) { changes[k] = { newValue: v, oldValue: session[k] }; session[k] = v; }
    globalThis.chrome.storage.onChanged.fire(changes, 'session');
  },
  remove: async (key) => {
    const changes = { [key]: { newValue: undefined, oldValue: session[key] } };
    delete session[key];
    globalThis.chrome.storage.onChanged.fire(changes, 'session');
  },
};
const localChanged = globalThis.chrome.storage.onChanged;
const onChanged = new FakeEvent();
localChanged.addListener((changes, area) => onChanged.fire(changes, area)); // the harness's local area
globalThis.chrome.storage.session = sessionArea;
globalThis.chrome.storage.onChanged = onChanged;

const { CONFIRM_KEY, CONFIRM_MESSAGE, CONFIRM_TTL_MS, answerProblem, confirmView, confirmedRequest, isLive, pendingConfirm } =
  await import('../../extension/lib/confirm.js');
const { hotkeyConfirm } = await import('../../extension/sidepanel/hotkey_confirm.js');
const { contractText } = await import('../../extension/sidepanel/ticket_form.js');

test.after(() => dom.close());

const T0 = 1_800_000_000_000;
const ES_TICKET = { symbol: 'ESZ6', type: 'MARKET', quantity: '3', side: 'BUY' };
const ES_REPLY = {
  status: 'confirm', reason: 'order value 900037.50 USD is above the confirmation threshold of 150000.00 USD: confirm to send',
  notional: '900037.50', currency: 'USD', quantity: '3', order_id: null,
};

test('the confirm in words, and the checks on an answer', () => {
  const p = pendingConfirm('buy', ES_TICKET, ES_REPLY, T0, 'c1');
  assert.equal(p.expires_ms, T0 + CONFIRM_TTL_MS);
  const v = confirmView(p, T0 + 1_000);
  assert.equal(v.question, 'Buy 3 ESZ6?');
  assert.equal(v.value, 'Order value 900,037.50 USD, above your confirmation threshold.');
  assert.equal(v.yes, 'Confirm BUY');
  assert.equal(v.secondsLeft, 29);
  assert.ok(v.detail.includes('150000.00 USD'));
  assert.equal(confirmView(pendingConfirm('sell', { ...ES_TICKET, side: 'SELL' }, ES_REPLY, T0, 'c2'), T0).yes, 'Confirm SELL');
  assert.deepEqual(confirmedRequest(p), { type: 'command', payload: { name: 'buy', ticket: ES_TICKET, confirmed: true } });
  assert.equal(answerProblem(p, { id: 'c1', yes: true }, T0 + 1), null);
  assert.equal(answerProblem(p, { id: 'c0', yes: true }, T0 + 1).code, 'invalid'); // another order
  assert.equal(answerProblem(null, { id: 'c1', yes: true }, T0 + 1).code, 'invalid'); // answered elsewhere
  assert.match(answerProblem(p, { id: 'c1', yes: true }, T0 + CONFIRM_TTL_MS).message, /not confirmed within 30 s/);
  assert.equal(answerProblem(p, { id: 'c1' }, T0).code, 'bad_request');
  assert.equal(isLive(p, T0 + CONFIRM_TTL_MS - 1), true);
  assert.equal(isLive({ id: 'x' }, T0), false);
});

test('the ticket names the futures contract and its expiry', () => {
  assert.equal(contractText({ symbol: 'MESZ6', contract: 'MESZ6', expires: '2026-12-18' }), 'MESZ6 · expires 2026-12-18');
  assert.equal(contractText({ symbol: 'BTCUSDT' }), '');
  assert.equal(contractText({ symbol: 'X', expires: 'soon' }), '');
});

test('the ticket shows the waiting hotkey order, and Confirm answers the worker once', async () => {
  let clock = T0;
  const sent = [];
  let answer = null;
  const send = (msg) => { sent.push(msg); return new Promise((r) => { answer = r; }); };
  const hk = hotkeyConfirm({ id: 'hk-1', now: () => clock, send, area: sessionArea });
  document.body.append(hk.el);
  await settle();
  assert.equal(hk.el.hidden, true, 'nothing waiting: hidden');

  const p = pendingConfirm('buy', ES_TICKET, ES_REPLY, T0, 'c1');
  await sessionArea.set({ [CONFIRM_KEY]: p });
  assert.equal(hk.el.hidden, false);
  assert.equal(hk.el.getAttribute('role'), 'alertdialog');
  assert.equal(hk.el.querySelector('#hk-1-question').textContent, 'Buy 3 ESZ6?');
  assert.match(hk.el.querySelector('#hk-1-why').textContent, /900,037.50 USD.*30 s left/);
  const yes = hk.el.querySelector('#hk-1-yes');
  assert.equal(yes.textContent, 'Confirm BUY');

  yes.click();
  yes.click(); // a double click: one answer
  await settle();
  assert.deepEqual(sent, [{ kind: CONFIRM_MESSAGE, id: 'c1', yes: true }]);
  assert.equal(hk.el.dataset.state, 'sending');
  assert.equal(yes.disabled, true);
  // the worker drops the stored order (every panel hides its copy) and answers with the outcome
  await sessionArea.remove(CONFIRM_KEY);
  answer({ ok: { name: 'buy', summary: 'BUY 3 ESZ6 market: filled' }, view: { level: 'info', message: 'Bought 3 ESZ6 at 6,000.25' } });
  await settle();
  assert.equal(hk.el.hidden, false, 'the answer stays on show a moment');
  assert.equal(hk.el.querySelector('#hk-1-result').textContent, 'Bought 3 ESZ6 at 6,000.25');
  assert.equal(yes.hidden, true);
  hk.close();
  hk.el.remove();
});

test('Cancel sends no; a confirm that runs out says nothing was sent', async () => {
  let clock = T0;
  const sent = [];
  const send = async (msg) => { sent.push(msg); return { ok: { summary: 'Not sent.' } }; };
  const hk = hotkeyConfirm({ id: 'hk-2', now: () => clock, send, area: sessionArea });
  document.body.append(hk.el);
  await sessionArea.set({ [CONFIRM_KEY]: pendingConfirm('sell', { ...ES_TICKET, side: 'SELL' }, ES_REPLY, T0, 'c2') });
  hk.el.querySelector('#hk-2-no').click();
  await settle();
  assert.deepEqual(sent, [{ kind: CONFIRM_MESSAGE, id: 'c2', yes: false }]);
  assert.equal(hk.el.querySelector('#hk-2-result').textContent, 'Not sent.');

  await sessionArea.set({ [CONFIRM_KEY]: pendingConfirm('buy', ES_TICKET, ES_REPLY, T0, 'c3') });
  assert.equal(hk.el.querySelector('#hk-2-yes').hidden, false, 'a new order asks again');
  clock = T0 + CONFIRM_TTL_MS + 1;
  await hk.refresh(); // what the 1 s ticker does
  assert.equal(hk.el.querySelector('#hk-2-result').textContent, '');
  assert.equal(hk.el.hidden, true, 'a stale order found in storage is not offered');
  hk.close();
  hk.el.remove();
});

test('the minimised bar covers itself with the confirm and uncovers when it is answered elsewhere', async () => {
  await sessionArea.remove(CONFIRM_KEY);
  const hk = hotkeyConfirm({ id: 'bar-c', compact: true, now: () => T0, send: async () => ({}), area: sessionArea });
  document.body.append(hk.el);
  await settle();
  assert.equal(hk.el.style.display, 'none');
  await sessionArea.set({ [CONFIRM_KEY]: pendingConfirm('buy', ES_TICKET, ES_REPLY, T0, 'c4') });
  assert.equal(hk.el.style.display, 'flex');
  assert.equal(hk.el.style.position, 'absolute');
  assert.equal(hk.el.querySelector('#bar-c-question').textContent, 'Buy 3 ESZ6?');
  await sessionArea.remove(CONFIRM_KEY); // another panel answered
  assert.equal(hk.el.style.display, 'none');
  hk.close();
  hk.el.remove();
});

// -- the worker ------------------------------------------------------------------------------------

const HELLO_OK = { host_version: '0.1.0', protocol_version: 1, capabilities: ['status'], vault: 'unlocked', pid: 1 };

/** A native port that answers like the host: hello, ping, and scripted `command` replies. */
class HostPort extends FakePort {
  constructor(commands) {
    super();
    this.commands = commands;
  }

  postMessage(msg) {
    super.postMessage(msg);
    let ok;
    if (msg.type === 'hello') ok = HELLO_OK;
    else if (msg.type === 'ping') ok = { t: msg.payload?.t ?? 0, host_time: 0 };
    else if (msg.type === 'command') ok = this.commands(msg.payload);
    else ok = {};
    queueMicrotask(() => this.deliver({ v: 1, id: msg.id, type: msg.type, ok }));
  }
}

test('the worker asks instead of failing, and sends the confirmed order once', async () => {
  const commands = [];
  const port = new HostPort((payload) => {
    commands.push(payload);
    if (payload.confirmed) return { name: payload.name, summary: 'BUY 3 ESZ6 market: filled', result: { status: 'placed', order_id: '7', client_id: 'sdh1', order_status: 'FILLED', filled: '3', avg_price: '6000.25', quantity: '3' } };
    return { name: payload.name, summary: `waiting for your confirmation: ${ES_REPLY.reason}`, result: ES_REPLY };
  });
  const badges = [];
  const notifications = [];
  const runtimeMessages = new FakeEvent();
  Object.assign(globalThis.chrome, {
    runtime: {
      ...globalThis.chrome.runtime,
      connectNative: () => port,
      getManifest: () => ({ version: '0.1.0' }),
      getURL: (p) => `chrome-extension://test-extension-id/${p}`,
      onConnect: new FakeEvent(),
      onInstalled: new FakeEvent(),
      onMessage: runtimeMessages,
      lastError: undefined,
    },
    commands: { onCommand: new FakeEvent() },
    sidePanel: { setPanelBehavior: async () => {} },
    action: {
      setBadgeText: async ({ text }) => { badges.push(text); },
      setBadgeBackgroundColor: async () => {},
      setTitle: async () => {},
    },
    notifications: { create: async (n) => { notifications.push(n); }, onClicked: new FakeEvent(), onButtonClicked: new FakeEvent() },
  });
  await globalThis.chrome.storage.local.set({ 'sidedesk.ticket': { symbol: 'ESZ6', type: 'MARKET', quantity: '3' } });
  await import('../../extension/background/worker.js');
  await settle();
  const { runCommand } = globalThis.sidedesk;

  const asked = await runCommand('buy');
  assert.equal(asked.badge, '?');
  assert.match(asked.message, /Buy 3 ESZ6\? Order value 900,037.50 USD/);
  assert.equal(commands.length, 1);
  assert.equal(commands[0].confirmed, undefined, 'the first send is a plain command');
  const p = session[CONFIRM_KEY];
  assert.equal(p.name, 'buy');
  assert.deepEqual(p.ticket, { symbol: 'ESZ6', type: 'MARKET', quantity: '3', side: 'BUY' });
  assert.equal(badges.at(-1), '?');
  assert.match(notifications.at(-1).title, /confirm in the panel/);

  // a panel's answer arrives as a runtime message; a stranger's is refused
  const ask = (msg, sender) => new Promise((resolve) => {
    const keep = runtimeMessages.listeners.map((fn) => fn(msg, sender, resolve));
    if (!keep.includes(true)) resolve(undefined);
  });
  const stranger = await ask({ kind: CONFIRM_MESSAGE, id: p.id, yes: true }, { id: 'another-extension' });
  assert.equal(stranger.error.code, 'forbidden');
  assert.equal(commands.length, 1);

  const [first, second] = await Promise.all([
    ask({ kind: CONFIRM_MESSAGE, id: p.id, yes: true }, { id: 'test-extension-id' }),
    ask({ kind: CONFIRM_MESSAGE, id: p.id, yes: true }, { id: 'test-extension-id' }), // a second panel
  ]);
  assert.equal(first.ok.result.status, 'placed');
  assert.equal(second.error.code, 'invalid', 'only one answer sends');
  assert.equal(commands.length, 2);
  assert.deepEqual(commands[1], { name: 'buy', ticket: { symbol: 'ESZ6', type: 'MARKET', quantity: '3', side: 'BUY' }, confirmed: true });
  assert.equal(session[CONFIRM_KEY], undefined, 'answered: gone from every panel');
  assert.equal(badges.at(-1), '', 'the badge clears after the fill');
  assert.match(first.view.message, /Bought 3 ESZ6/);
  globalThis.sidedesk.native.stop();
});
