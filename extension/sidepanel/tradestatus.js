// The Trade tab's connection strip: green "live", pulsing amber "reconnecting (attempt N)", red
// "offline — showing cached data", the active account, and the host's latest warning (log topic).
// Also owns the "No broker account yet" empty state of the Trade tab.

import { h } from './dom.js';
import { flattenControl } from './flatten.js';
import { tradeIndicator } from './live.js';
import { tradeStore } from './trade_store.js';
import { tidyNumbers } from './words.js';

const LOG_SHOW_MS = 30_000;

export function mountTradeStatus(root, client) {
  const store = tradeStore(client);
  const dot = h('span', { class: 'live-dot', 'aria-hidden': 'true' });
  const label = h('span', { class: 'live-label', id: 'trade-live-label' });
  const account = h('span', { class: 'live-account muted' });
  const detail = h('span', { class: 'live-detail muted' });
  const strip = h('div', { class: 'live-strip', id: 'trade-live', role: 'status', 'data-tone': 'idle' }, dot, label, account, detail);
  const logLine = h('p', { class: 'live-log', id: 'trade-log', 'aria-live': 'polite', hidden: true });
  // The host's list of positions without a working managed stop (core/unprotected.py), each with
  // the one action that fixes it: a red banner nobody can miss.
  const unprotected = h('div', { class: 'unprotected', id: 'trade-unprotected', role: 'alert', hidden: true });
  const flatten = flattenControl(store, { id: 'trade-flatten', resultId: 'trade-flatten-result' });
  const head = h('div', { class: 'trade-head' }, strip, flatten.button);
  root.replaceChildren(head, unprotected, flatten.result, logLine);

  const empty = document.getElementById('trade-empty');
  const emptyDetail = h('span', { class: 'empty-detail', id: 'trade-empty-detail' });
  if (empty) empty.after(emptyDetail);
  let logTimer = null;

  function render() {
    const acc = store.activeAccount;
    const view = tradeIndicator(client.status, store.activeBroker);
    strip.dataset.tone = view.tone;
    if (label.textContent !== view.label) label.textContent = view.label;
    account.textContent = acc ? `${acc.name} · ${acc.broker} ${acc.environment}` : '';
    detail.textContent = view.detail && view.tone !== 'live' ? view.detail : '';
    document.body.dataset.tradeTone = view.tone;
    renderUnprotected();
    renderEmpty();
  }

  function renderUnprotected() {
    const rows = Array.isArray(store.status?.unprotected) ? store.status.unprotected : [];
    unprotected.hidden = rows.length === 0;
    document.body.dataset.unprotected = rows.length ? 'yes' : 'no';
    if (!rows.length) { unprotected.replaceChildren(); return; }
    unprotected.replaceChildren(
      h('strong', {}, rows.length === 1 ? 'Unprotected position' : `${rows.length} unprotected positions`),
      ...rows.map((r) => h('span', { class: 'unprotected-row', dataset: { reason: r.reason } },
        `${r.symbol} ${r.position_side === 'BOTH' ? '' : `${r.position_side} `}${r.quantity}: ${r.fix}`)),
    );
  }

  function renderEmpty() {
    if (!empty) return;
    const { accounts, active_id: activeId, error, loaded } = store.accounts;
    let text = 'No broker account yet — add one in Setup';
    let more = '';
    let show = true;
    if (error) {
      if (error.code === 'locked') {
        more = client.status.vault === 'absent' ? '' : 'The vault is locked: unlock it in Setup to trade.';
      } else if (error.code === 'unknown_type') {
        more = 'This Sidedesk host has no trading support yet (host too old): update it.';
      } else if (error.code !== 'disconnected') {
        more = `Could not list accounts [${error.code}]: ${error.message}`;
      }
    } else if (loaded && accounts.length && !activeId) {
      text = 'No active account — pick one in Setup';
    } else if (activeId) {
      show = false;
    }
    empty.textContent = text;
    empty.hidden = !show;
    emptyDetail.textContent = more;
    emptyDetail.hidden = !show || !more;
    document.body.dataset.trading = show ? 'off' : 'on';
  }

  /** The symbol a host sentence is about ("ASL BTCUSDT: …", "… 0.001 BTCUSDT at …"). */
  function infoIn(text) {
    for (const [sym, info] of store.symbols) if (text.includes(sym)) return info;
    return undefined;
  }

  function showLog(entry) {
    if (!entry || !entry.message) return;
    logLine.textContent = tidyNumbers(entry.message, infoIn(entry.message));
    logLine.dataset.level = entry.level ?? 'info';
    logLine.hidden = false;
    if (logTimer) clearTimeout(logTimer);
    logTimer = setTimeout(() => { logLine.hidden = true; }, entry.level === 'error' ? LOG_SHOW_MS * 4 : LOG_SHOW_MS);
  }

  store.on('host', render);
  store.on('status', render);
  store.on('accounts', render);
  store.on('log', showLog);
  render();
}
