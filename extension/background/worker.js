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

const native = new NativeConnection({
  connect: () => chrome.runtime.connectNative(HOST_NAME),
  lastError: () => chrome.runtime.lastError?.message,
  hello: { client: 'sidedesk-extension', client_version: chrome.runtime.getManifest().version },
});
const hub = new PanelHub(native, { extensionId: chrome.runtime.id });

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

/**
 * A keyboard command: visible at once (badge "…"), then the host's answer or the reason it was
 * refused, verbatim, as a notification, on the badge and in every open panel.
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
  return showOutcome(name, outcome, { ticket: context.ticket });
}

chrome.runtime.onConnect.addListener((port) => {
  hub.accept(port);
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
globalThis.sidedesk = { native, hub, runCommand };

native.start();
savedContext(); // warm the hotkeys' ticket cache
