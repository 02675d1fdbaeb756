// Sidedesk service worker: owns the single native port to the host and relays for the panels.
//
// Every listener is registered synchronously at top level: the worker is restarted on demand
// (panel connect, keyboard command) and only listeners present after the first turn see the
// event that woke it. An open native port keeps the worker alive (Chrome 105+), so in normal
// use this module runs once per browser session; globals are rebuilt on every restart anyway.

import { HOST_NAME, NativeConnection } from '../lib/native.js';
import { PanelHub } from '../lib/hub.js';
import {
  COMMAND_TIMEOUT_MS, LOCAL_COMMANDS, MINIMISED_KEY, POSITION_KEY, TICKET_KEY, commandLabel, commandRequest,
  describeOutcome,
} from '../lib/commands.js';
import {
  FIX_KEY, NOTIFICATION_PREFIX, NOTIFIED_KEY, UnprotectedNotifier, accountLabel, fixActsOnAccount, unprotectedKey,
} from '../lib/unprotected.js';
import {
  CONFIRM_KEY, CONFIRM_MESSAGE, CONFIRM_TTL_MS, answerProblem, confirmView, confirmedRequest, isLive, pendingConfirm,
} from '../lib/confirm.js';

const native = new NativeConnection({
  connect: () => chrome.runtime.connectNative(HOST_NAME),
  lastError: () => chrome.runtime.lastError?.message,
  hello: { client: 'sidedesk-extension', client_version: chrome.runtime.getManifest().version },
});
// The worker follows the status topic itself (panels or not): unprotected positions notify.
const hub = new PanelHub(native, { extensionId: chrome.runtime.id, own: ['status'] });

async function showOutcome(name, outcome, ctx = {}) {
  const view = describeOutcome(name, outcome, ctx);
  hub.broadcast({ kind: 'notice', level: view.level, text: `${view.title}: ${view.message}` });
  try {
    await chrome.action.setBadgeText({ text: view.badge });
    if (view.badge) {
      await chrome.action.setBadgeBackgroundColor({ color: '#c62828' });
      await chrome.action.setTitle({ title: `${view.title}\n${view.message}` });
    } else {
      await chrome.action.setTitle({ title: 'Sidedesk' });
    }
  } catch (e) {
    console.warn('sidedesk: badge update failed', e);
  }
  try {
    await chrome.notifications.create({
      type: 'basic',
      iconUrl: chrome.runtime.getURL('icons/128.png'),
      title: view.title,
      message: view.message,
      priority: view.level === 'error' ? 2 : 0,
    });
  } catch (e) {
    // Notifications can be disabled by the OS or the user; the badge and the panel still show it.
    console.warn('sidedesk: notification failed', e);
  }
  return view;
}

async function setBadge(text, color, title) {
  try {
    await chrome.action.setBadgeText({ text });
    if (color) await chrome.action.setBadgeBackgroundColor({ color });
    if (title) await chrome.action.setTitle({ title });
  } catch (e) {
    console.warn('sidedesk: badge update failed', e);
  }
}

// What the panel saved for hotkeys (the last ticket, the selected position), kept in memory so a
// keystroke does not wait for storage; read from storage once after each worker start.
let saved = null;

chrome.storage.onChanged.addListener((changes, area) => {
  if (area !== 'local' || saved === null) return;
  if (TICKET_KEY in changes) saved.ticket = changes[TICKET_KEY].newValue ?? null;
  if (POSITION_KEY in changes) saved.position = changes[POSITION_KEY].newValue ?? null;
});

async function savedContext() {
  if (saved !== null) return saved;
  try {
    const got = await chrome.storage.local.get([TICKET_KEY, POSITION_KEY]);
    saved = { ticket: got[TICKET_KEY] ?? null, position: got[POSITION_KEY] ?? null };
    return saved;
  } catch (e) {
    console.warn('sidedesk: could not read the saved ticket', e);
    return { ticket: null, position: null };
  }
}

/** toggle_minimised is the panel's business: flip the stored flag; open panels follow it. */
async function toggleMinimised(name) {
  let on = false;
  try {
    const got = await chrome.storage.local.get(MINIMISED_KEY);
    on = !got[MINIMISED_KEY];
    await chrome.storage.local.set({ [MINIMISED_KEY]: on });
  } catch (e) {
    return showOutcome(name, { error: { code: 'internal', message: `could not save the setting: ${e.message}` } });
  }
  const where = hub.panels.size ? '' : ' (applies when the panel opens)';
  return showOutcome(name, { ok: { summary: `action bar ${on ? 'minimised' : 'restored'}${where}` } });
}

async function notify(title, message, level) {
  try {
    await chrome.notifications.create({
      type: 'basic',
      iconUrl: chrome.runtime.getURL('icons/128.png'),
      title,
      message,
      priority: level === 'error' ? 2 : 1,
    });
  } catch (e) {
    console.warn('sidedesk: notification failed', e);
  }
}

// -- hotkey orders above the confirmation threshold (lib/confirm.js) ------------------------------
// The order waits in chrome.storage.session; the panels show it and answer with a runtime message.
const answered = new Set(); // confirm ids answered in this worker: a double click sends once
let confirmSeq = 0;
let expiryTimer = null;

async function storedConfirm() {
  try {
    return (await chrome.storage.session.get(CONFIRM_KEY))?.[CONFIRM_KEY] ?? null;
  } catch (e) {
    console.warn('sidedesk: could not read the waiting confirmation', e);
    return null;
  }
}

async function dropConfirm(id) {
  const p = await storedConfirm();
  if (p && p.id === id) {
    try { await chrome.storage.session.remove(CONFIRM_KEY); } catch (e) { console.warn('sidedesk: could not clear the confirmation', e); }
  }
}

function expireLater(p) {
  clearTimeout(expiryTimer);
  expiryTimer = setTimeout(() => { expire(p.id).catch((e) => console.warn('sidedesk: expiry failed', e)); },
    Math.min(Math.max(0, p.expires_ms - Date.now()), CONFIRM_TTL_MS) + 100);
}

/** Nobody answered in time: nothing is sent, and the trader is told so. */
async function expire(id) {
  const p = await storedConfirm();
  if (!p || p.id !== id || answered.has(id)) return;
  answered.add(id);
  await dropConfirm(id);
  const view = confirmView(p, Date.now());
  await showOutcome(p.name, { ok: { summary: `not sent: ${view.question} was not confirmed within ${CONFIRM_TTL_MS / 1000} s` } });
}

/** The host asked for a confirmation: keep the order for the panels, and say where to answer. */
async function askConfirm(name, ticket, result) {
  confirmSeq += 1;
  const now = Date.now();
  const p = pendingConfirm(name, ticket, result, now, `${now.toString(36)}-${confirmSeq}`);
  try {
    await chrome.storage.session.set({ [CONFIRM_KEY]: p });
  } catch (e) {
    return showOutcome(name, { error: { code: 'internal', message: `could not ask for the confirmation (${e.message}); nothing was sent` } });
  }
  expireLater(p);
  const view = confirmView(p, now);
  const title = `Sidedesk — ${commandLabel(name)}: confirm in the panel`;
  const where = hub.panels.size ? 'Confirm or cancel it in the panel' : 'Open the panel (Alt+Shift+L) to confirm or cancel it';
  const message = `${view.question} ${view.value} ${where} within ${CONFIRM_TTL_MS / 1000} s; nothing is sent until then.`;
  hub.broadcast({ kind: 'notice', level: 'warning', text: `${title}: ${view.question} ${view.value}` });
  await setBadge('?', '#b26a00', `${title}\n${view.question} ${view.value}`);
  await notify(title, message, 'warning');
  return { level: 'warning', title, message, badge: '?' };
}

/** A panel's Confirm or Cancel: send the same ticket with `confirmed`, or drop it. */
async function answerConfirm(answer) {
  if (typeof answer?.id === 'string' && answered.has(answer.id)) {
    return { error: { code: 'invalid', message: 'this order was answered already' } };
  }
  const p = await storedConfirm();
  const problem = answerProblem(p, answer, Date.now());
  if (problem) return { error: problem };
  if (answered.has(p.id)) return { error: { code: 'invalid', message: 'this order was answered already' } };
  answered.add(p.id);
  clearTimeout(expiryTimer);
  await dropConfirm(p.id);
  if (!answer.yes) {
    const view = await showOutcome(p.name, { ok: { summary: 'not sent (cancelled in the panel)' } });
    return { ok: { summary: 'Not sent.' }, view };
  }
  setBadge('…', '#6e7781', `Sidedesk — ${commandLabel(p.name)}: sending…`);
  const request = confirmedRequest(p);
  native.start();
  let outcome;
  try {
    outcome = { ok: await native.request(request.type, request.payload, { timeoutMs: COMMAND_TIMEOUT_MS }) };
  } catch (err) {
    outcome = { error: { code: err.code ?? 'internal', message: err.message } };
  }
  const view = await showOutcome(p.name, outcome, { ticket: p.ticket });
  return { ...outcome, view };
}

/**
 * A keyboard command: visible at once (badge "…"), then the host's answer or the reason it was
 * refused, verbatim, as a notification, on the badge and in every open panel. Above the
 * confirmation threshold the answer is a question, asked in the panel (askConfirm).
 */
async function runCommand(name) {
  // Not awaited: the keystroke shows at once, and the order does not wait for the badge.
  setBadge('…', '#6e7781', `Sidedesk — ${commandLabel(name)}: sending…`);
  if (LOCAL_COMMANDS.has(name)) return toggleMinimised(name);
  const context = await savedContext();
  const request = commandRequest(name, context);
  native.start();
  let outcome;
  try {
    outcome = { ok: await native.request(request.type, request.payload, { timeoutMs: COMMAND_TIMEOUT_MS }) };
  } catch (err) {
    outcome = { error: { code: err.code ?? 'internal', message: err.message } };
  }
  if (outcome.ok?.result?.status === 'confirm' && request.payload.ticket) {
    return askConfirm(name, request.payload.ticket, outcome.ok.result);
  }
  return showOutcome(name, outcome, { ticket: context.ticket });
}

// -- unprotected positions: a desktop notification per position per episode (lib/unprotected.js) --
// The episodes already notified are kept in chrome.storage.session, so a worker restart does not
// notify again for a position that stayed unprotected meanwhile.
let notifier = null;
const notifierReady = (async () => {
  let keys = [];
  try { keys = (await chrome.storage.session.get(NOTIFIED_KEY))?.[NOTIFIED_KEY] ?? []; } catch (e) { console.warn('sidedesk: could not read the notified positions', e); }
  notifier = new UnprotectedNotifier(keys);
})();

// accounts.list's rows, to name each notification's account (read again when one is not there),
// and the status topic's brokers (the venue's names, and which account is active)
let accountRows = [];
let lastBrokers = [];

async function labelsFor(rows, brokers) {
  const fresh = rows.filter((r) => r && typeof r.account_id === 'string' && !notifier.open.has(unprotectedKey(r)));
  if (fresh.some((r) => !accountRows.some((a) => a.id === r.account_id))) {
    try {
      accountRows = (await native.request('accounts.list', {}, { timeoutMs: 5_000 }))?.accounts ?? accountRows;
    } catch (e) {
      console.warn('sidedesk: could not list the accounts to name them', e); // the venue's name or the id then
    }
  }
  return (accountId) => accountLabel(accountId, accountRows, brokers);
}

async function showUnprotected(rows, brokers) {
  const { show, clear } = notifier.update(rows, await labelsFor(rows, brokers));
  if (!show.length && !clear.length) return;
  for (const id of clear) {
    try { await chrome.notifications.clear(id); } catch (e) { console.warn('sidedesk: could not clear a notification', e); }
  }
  for (const n of show) {
    try {
      await chrome.notifications.create(n.id, {
        type: 'basic',
        iconUrl: chrome.runtime.getURL('icons/128.png'),
        title: n.title,
        message: n.message,
        priority: 2,
        requireInteraction: true, // stays until it is protected again (cleared then) or clicked
        buttons: [{ title: n.button }],
      });
    } catch (e) {
      console.warn('sidedesk: notification failed', e); // disabled by the OS or the user: the panel still shows it
    }
  }
  try { await chrome.storage.session.set({ [NOTIFIED_KEY]: notifier.keys() }); } catch (e) { console.warn('sidedesk: could not keep the notified positions', e); }
}

native.onEvent((ev) => {
  if (ev.topic !== 'status' || !Array.isArray(ev.payload?.unprotected)) return;
  const rows = ev.payload.unprotected;
  const brokers = Array.isArray(ev.payload.brokers) ? ev.payload.brokers : [];
  lastBrokers = brokers;
  notifierReady.then(() => showUnprotected(rows, brokers)).catch((e) => console.error('sidedesk: unprotected notification failed', e));
});

/** The fix's own account made the active one (Flatten and Turn ASL on act on the active
 * account), then the panel told which control to focus. */
async function passFix(fix) {
  if (fix.account_id && fixActsOnAccount(fix)) {
    try {
      const active = lastBrokers.find((b) => b?.active)?.account_id;
      if (active !== fix.account_id) await native.request('accounts.activate', { account_id: fix.account_id }, { timeoutMs: 30_000 });
    } catch (e) {
      const text = `Could not switch to the unprotected position's account: ${e?.message ?? e}`;
      hub.broadcast({ kind: 'notice', level: 'error', text });
    }
  }
  // the panel (open, or opening) reads the wanted fix and focuses it
  await chrome.storage.session.set({ [FIX_KEY]: { tab: fix.tab, focus: fix.focus, reason: fix.reason, at: Date.now() } });
}

/** A click on an unprotected notification: open the panel on the control that fixes it. */
function openFix(id) {
  // (a worker woken by this click has no episodes read back yet: the Trade tab's banner then)
  const fix = notifier?.fixFor(id) ?? { tab: 'trade', focus: 'unprotected', reason: null };
  passFix(fix).catch((e) => console.warn('sidedesk: could not pass the fix to the panel', e));
  const inTab = () => chrome.tabs.create({ url: chrome.runtime.getURL(`sidepanel/panel.html?tab=${fix.tab}&fix=${fix.focus}`) });
  // sidePanel.open needs the click's user gesture: called at once, before any await
  chrome.sidePanel.open({ windowId: chrome.windows.WINDOW_ID_CURRENT })
    .catch(() => chrome.windows.getLastFocused().then((w) => chrome.sidePanel.open({ windowId: w.id })))
    .catch(() => inTab())
    .catch((e) => console.warn('sidedesk: could not open the panel', e));
}

chrome.notifications.onClicked.addListener((id) => { if (id.startsWith(NOTIFICATION_PREFIX)) openFix(id); });
chrome.notifications.onButtonClicked.addListener((id) => { if (id.startsWith(NOTIFICATION_PREFIX)) openFix(id); });

chrome.runtime.onConnect.addListener((port) => {
  hub.accept(port);
});

// A panel's answer to a hotkey confirmation (only this extension's own pages may answer).
chrome.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  if (msg?.kind !== CONFIRM_MESSAGE) return false;
  if (sender?.id !== chrome.runtime.id) {
    sendResponse({ error: { code: 'forbidden', message: 'not from this extension' } });
    return false;
  }
  answerConfirm(msg).then(sendResponse, (e) => sendResponse({ error: { code: 'internal', message: String(e?.message ?? e) } }));
  return true; // answered asynchronously
});

chrome.commands.onCommand.addListener((name) => {
  // _execute_action never arrives here (it toggles the side panel by itself).
  runCommand(name).catch((e) => console.error('sidedesk: command failed', e));
});

chrome.runtime.onInstalled.addListener(() => {
  chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true }).catch((e) => console.warn(e));
});

// Also on every start: the behaviour is persisted, but a profile copied from elsewhere or an
// update that raced the worker may lack it, and setting it twice is harmless.
chrome.sidePanel.setPanelBehavior({ openPanelOnActionClick: true }).catch((e) => console.warn(e));

// For the DevTools console and the e2e tests (reachable only from this extension's own worker).
globalThis.sidedesk = { native, hub, runCommand, answerConfirm, openFix, notifier: () => notifier };

native.start();
savedContext(); // warm the hotkeys' ticket cache
// A confirmation left from before a worker restart: keep its expiry, or drop it if it lapsed.
storedConfirm().then((p) => {
  if (p && isLive(p, Date.now())) expireLater(p);
  else if (p) dropConfirm(p.id);
});
