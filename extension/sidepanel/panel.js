// The side panel shell: tabs, the status bar, install help, shortcuts and diagnostics.
// Feature modules mount themselves into their own <section> (see mountVault below).

import { HostClient } from '../lib/client.js';
import { COMMAND_ORDER } from '../lib/commands.js';
import { formatStatus, formatLatency, formatBytes, formatDuration, shortcutRows } from './format.js';
import { tradeStore } from './trade_store.js';
import { FIX_KEY } from '../lib/unprotected.js';

const $ = (id) => document.getElementById(id);
const client = new HostClient();
const extensionId = chrome.runtime.id;
const LOG_MAX = 30;
const NOTICE_MAX = 4;
const NOTICE_TTL_MS = 20_000;

// -- tabs (WAI-ARIA tabs pattern: arrow keys move between tabs) ------------------------------------
const tabs = [...document.querySelectorAll('[role="tab"]')];

function selectTab(tab, focus = false) {
  for (const t of tabs) {
    const selected = t === tab;
    t.setAttribute('aria-selected', String(selected));
    t.tabIndex = selected ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !selected;
  }
  if (focus) tab.focus();
  try { localStorage.setItem('sidedesk.tab', tab.id); } catch { /* storage disabled */ }
  if (tab.id === 'tab-setup') refreshStats();
}

for (const tab of tabs) {
  tab.addEventListener('click', () => selectTab(tab));
  tab.addEventListener('keydown', (e) => {
    const i = tabs.indexOf(tab);
    let next = null;
    if (e.key === 'ArrowRight') next = tabs[(i + 1) % tabs.length];
    else if (e.key === 'ArrowLeft') next = tabs[(i - 1 + tabs.length) % tabs.length];
    else if (e.key === 'Home') next = tabs[0];
    else if (e.key === 'End') next = tabs[tabs.length - 1];
    if (next) {
      e.preventDefault();
      selectTab(next, true);
    }
  });
}

// -- status bar, install help, connection log ------------------------------------------------------
let lastStatus = null;
let vaultSeen = false; // the status topic told the vault's state (newer than the handshake's)

function logLine(text) {
  const li = document.createElement('li');
  const time = document.createElement('time');
  const now = new Date();
  time.dateTime = now.toISOString();
  time.textContent = now.toLocaleTimeString();
  li.append(time, ' ', text);
  const log = $('diag-log');
  log.prepend(li);
  while (log.children.length > LOG_MAX) log.lastElementChild.remove();
}

function renderStatus(status) {
  const view = formatStatus(status);
  $('status-dot').dataset.state = status.state;
  $('status-state').textContent = view.label;
  $('status-state').title = status.message || '';
  $('status-host').textContent = status.hostVersion ? `host ${status.hostVersion}` : '';
  $('status-protocol').textContent = status.protocolVersion ? `protocol v${status.protocolVersion}` : '';
  $('status-rtt').textContent = status.rttMs != null && status.state === 'connected' ? `RTT ${formatLatency(status.rttMs)}` : '';
  document.body.dataset.hostState = status.state;

  $('diag-state').textContent = view.detail;
  $('diag-host-version').textContent = status.hostVersion ?? '—';
  $('diag-protocol').textContent = status.protocolVersion ? `v${status.protocolVersion}` : '—';
  $('diag-pid').textContent = status.pid ?? '—';
  if (status.state !== 'connected' || !vaultSeen) $('diag-vault').textContent = status.vault ?? '—';
  $('diag-capabilities').textContent = status.capabilities?.length ? status.capabilities.join(', ') : '—';

  const help = $('install-help');
  help.hidden = status.state !== 'install';
  if (status.state === 'install') {
    $('install-reason').textContent = `The browser said: “${status.message}”`;
    $('install-advice').textContent = status.reason === 'forbidden'
      ? `The host is registered but does not allow this extension's id (a store build or a copy `
        + `without the pinned key). Run “sidedesk install --extension-id ${extensionId}”, then Retry.`
      : 'The browser could not find a registration for com.sidedesk.host.';
  }

  // One log line per change of state (not per ping).
  const key = [status.state, status.attempt, status.pid, status.message].map((v) => v ?? '').join('|');
  if (!lastStatus || key !== lastStatus) logLine(view.detail);
  lastStatus = key;
}

$('install-ext-id').textContent = extensionId;
$('diag-ext-id').textContent = extensionId;
$('install-retry').addEventListener('click', () => client.retry());
$('install-copy').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText(extensionId);
    showNotice({ level: 'info', text: 'Extension id copied.' });
  } catch (e) {
    showNotice({ level: 'error', text: `Could not copy: ${e.message}. Select the id and copy it by hand.` });
  }
});

// -- notices (command results, host-level errors) --------------------------------------------------
function showNotice({ level, text }) {
  const box = $('notices');
  const item = document.createElement('div');
  item.className = `notice notice-${level === 'error' ? 'error' : level === 'warning' ? 'warning' : 'info'}`;
  const span = document.createElement('span');
  span.textContent = text;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'notice-close';
  close.setAttribute('aria-label', 'Dismiss');
  close.textContent = '×';
  close.addEventListener('click', () => item.remove());
  item.append(span, close);
  box.append(item);
  while (box.children.length > NOTICE_MAX) box.firstElementChild.remove();
  if (level !== 'error') setTimeout(() => item.remove(), NOTICE_TTL_MS);
}

// -- diagnostics -----------------------------------------------------------------------------------
let statsInFlight = false;

async function refreshStats() {
  if (statsInFlight) return;
  statsInFlight = true;
  const box = $('diag-stats');
  const err = $('diag-stats-error');
  box.setAttribute('aria-busy', 'true');
  try {
    const s = await client.request('stats');
    err.hidden = true;
    $('stat-frames').textContent = `${s.frames_in} / ${s.frames_out}`;
    $('stat-bytes').textContent = `${formatBytes(s.bytes_in)} / ${formatBytes(s.bytes_out)}`;
    $('stat-bad').textContent = String(s.bad_frames);
    $('stat-errors').textContent = String(s.errors);
    $('stat-handler').textContent = latencySummary(s.handler_us, 'µs');
    $('stat-rtt').textContent = latencySummary(s.native_rtt_ms, 'ms');
    const pushes = Object.entries(s.pushes).filter(([, n]) => n > 0).map(([t, n]) => `${t} ${n}`);
    $('stat-pushes').textContent = pushes.length ? pushes.join(', ') : 'none';
    $('stat-coalesced').textContent = String(s.coalesced);
    $('diag-uptime').textContent = formatDuration(s.uptime_s);
    box.dataset.loaded = 'true';
  } catch (e) {
    err.textContent = `Could not read host counters [${e.code}]: ${e.message}`;
    err.hidden = false;
  } finally {
    box.setAttribute('aria-busy', 'false');
    statsInFlight = false;
  }
}

function latencySummary(sum, unit) {
  if (!sum || !sum.count) return 'no samples yet';
  const f = (v) => (v == null ? '—' : `${Number(v).toFixed(unit === 'µs' ? 0 : 2)} ${unit}`);
  return `p50 ${f(sum.p50)} · p99 ${f(sum.p99)} · last ${f(sum.last)} (n=${sum.count})`;
}

// A diagnostic: everything the panel shows follows the host's events by itself; this asks again.
$('diag-refresh').addEventListener('click', () => {
  refreshStats();
  tradeStore(client).loadAccounts();
});

// -- shortcuts -------------------------------------------------------------------------------------
async function renderShortcuts() {
  const body = $('shortcuts-body');
  let commands;
  try {
    commands = await chrome.commands.getAll();
  } catch (e) {
    body.replaceChildren(row([`Could not read shortcuts: ${e.message}`], true));
    return;
  }
  body.replaceChildren(...shortcutRows(commands, COMMAND_ORDER).map((r) => {
    const tr = document.createElement('tr');
    const name = document.createElement('td');
    name.textContent = r.description;
    const key = document.createElement('td');
    if (r.shortcut) {
      const kbd = document.createElement('kbd');
      kbd.textContent = r.shortcut;
      key.append(kbd);
    } else {
      key.textContent = 'unassigned';
      key.className = 'muted';
    }
    tr.dataset.command = r.name;
    tr.append(name, key);
    return tr;
  }));
}

function row(cells, span = false) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    td.textContent = c;
    if (span) td.colSpan = 2;
    tr.append(td);
  }
  return tr;
}

$('shortcuts-link').addEventListener('click', (e) => {
  // Pages cannot navigate to chrome:// URLs; the tabs API can open them.
  e.preventDefault();
  chrome.tabs.create({ url: 'chrome://extensions/shortcuts' });
});

// -- wiring ----------------------------------------------------------------------------------------
client.onStatus((status) => {
  const wasConnected = document.body.dataset.hostState === 'connected';
  renderStatus(status);
  if (status.state === 'connected' && !wasConnected && !$('panel-setup').hidden) refreshStats();
});
client.onNotice(showNotice);
client.on('status', (payload, seq) => {
  // The host's `status` topic: a snapshot on subscribe, then a push on every change and every few
  // seconds. The vault's state comes from here (the handshake's answer is only its state then).
  const el = $('diag-uptime');
  el.dataset.statusSeq = String(seq);
  if (payload && typeof payload.uptime_s === 'number') el.textContent = formatDuration(payload.uptime_s);
  if (payload && typeof payload.vault === 'string') {
    vaultSeen = true;
    $('diag-vault').textContent = payload.vault;
  }
});
renderShortcuts();

// Feature modules fill their own section. Each is loaded dynamically so a failure there (a syntax
// error, a missing file) leaves the rest of the panel working and is shown where it would be.
function mountFeature(rootId, path, exportName, title) {
  const root = $(rootId);
  return import(path)
    .then((mod) => mod[exportName](root, client))
    .catch((e) => {
      console.error(`${path} failed`, e);
      const h = document.createElement('h2');
      h.textContent = title;
      const p = document.createElement('p');
      p.className = 'error';
      p.setAttribute('role', 'alert');
      p.textContent = `The ${title.toLowerCase()} section failed to load: ${e?.message ?? e}`;
      root.replaceChildren(h, p);
      root.hidden = false;
    });
}

mountFeature('setup-vault', './vault.js', 'mountVault', 'Vault');
mountFeature('trade-status', './tradestatus.js', 'mountTradeStatus', 'Connection');
mountFeature('trade-ticket', './ticket.js', 'mountTicket', 'Ticket');
mountFeature('trade-positions', './positions.js', 'mountPositions', 'Positions');
mountFeature('trade-chart', './chart.js', 'mountChart', 'Chart');
mountFeature('trade-orders', './orders.js', 'mountOrders', 'Orders');
mountFeature('trade-account', './account.js', 'mountAccount', 'Account');
mountFeature('actionbar', './actionbar.js', 'mountActionBar', 'Action bar');
mountFeature('setup-accounts', './accounts.js', 'mountAccounts', 'Broker account');
mountFeature('setup-risk', './risk.js', 'mountRisk', 'Risk limits');
mountFeature('setup-asl', './asl.js', 'mountAsl', 'Advanced Stop Loss');
mountFeature('setup-service', './service.js', 'mountService', 'Keep protecting when the browser closes');
mountFeature('setup-contracts', './contracts.js', 'mountContracts', 'Contracts');
mountFeature('setup-localstream', './localstream.js', 'mountLocalStream', 'Local stream');

// Start on ?tab=setup when asked (links, tests), else on the tab used last.
let wanted = new URLSearchParams(location.search).get('tab');
wanted = wanted ? `tab-${wanted}` : null;
if (!wanted) {
  try { wanted = localStorage.getItem('sidedesk.tab'); } catch { /* storage disabled */ }
}
const startTab = tabs.find((t) => t.id === wanted);
if (startTab) selectTab(startTab);

// -- "the one action that fixes it": from a notification's click or the Trade tab's banner ----------
// The control a fix focuses, by the name lib/unprotected.js gives it (the vault's password field
// appears once the vault section has rendered: looked for a few times).
const FIX_TARGETS = {
  vault: '#setup-vault input[type="password"]',
  asl: '#setup-asl input, #setup-asl',
  accounts: '#setup-accounts button, #setup-accounts',
  flatten: '#trade-flatten',
  unprotected: '#trade-unprotected',
};
const FIX_FRESH_MS = 60_000;

function applyFix(fix, tries = 20) {
  if (!fix || typeof fix !== 'object') return;
  const tab = tabs.find((t) => t.id === `tab-${fix.tab}`);
  if (tab && tab.getAttribute('aria-selected') !== 'true') selectTab(tab);
  const el = document.querySelector(FIX_TARGETS[fix.focus] ?? '[role="tablist"]');
  if (!el && tries > 0) { setTimeout(() => applyFix(fix, tries - 1), 100); return; }
  el?.scrollIntoView?.({ block: 'center' });
  if (el && !el.hasAttribute('tabindex') && !/^(INPUT|BUTTON|SELECT|TEXTAREA)$/.test(el.tagName)) el.tabIndex = -1;
  el?.focus?.();
}

document.addEventListener('sidedesk-fix', (e) => applyFix(e.detail));
const fixParam = new URLSearchParams(location.search).get('fix');
if (fixParam) applyFix({ tab: new URLSearchParams(location.search).get('tab') ?? 'trade', focus: fixParam });

function takeFix(fix) {
  if (!fix || !(Date.now() - (fix.at ?? 0) < FIX_FRESH_MS)) return;
  chrome.storage.session.remove(FIX_KEY).catch(() => {});
  applyFix(fix);
}
try {
  chrome.storage.session.get(FIX_KEY).then((got) => takeFix(got?.[FIX_KEY]), () => {});
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area === 'session' && changes[FIX_KEY]?.newValue) takeFix(changes[FIX_KEY].newValue);
  });
} catch { /* storage.session unavailable: the notification still opened the panel */ }
