// The minimised 60 px action bar: a connection dot, BUY and SELL naming what they send (symbol
// and size of the current ticket), the total unrealized P&L or, for a few seconds, the last fill,
// and Flatten all. Toggled from the top bar's button and the `toggle_minimised` hotkey (the worker
// flips a flag in chrome.storage.local; every open panel follows it). A hotkey order waiting for
// its confirmation covers the bar with Confirm / Cancel (hotkey_confirm.js).

import { h, replayClass } from './dom.js';
import { flattenControl } from './flatten.js';
import { hotkeyConfirm } from './hotkey_confirm.js';
import { pnlDirection, tradeIndicator } from './live.js';
import { MINIMISED_KEY } from '../lib/commands.js';
import { lockedView, totalPnl } from './trade_view.js';
import { fixOf, positionWords } from '../lib/unprotected.js';
import { requestFix } from './tradestatus.js';
import { FILL_SHOW_MS, tradeStore } from './trade_store.js';
import { orderStatusText } from './words.js';

/**
 * The bar's alert line: an unprotected position first (red, with the one action that fixes it),
 * else the lock (amber), else nothing.
 */
export function barAlert(status, positions, orders) {
  const rows = Array.isArray(status?.unprotected) ? status.unprotected : [];
  if (rows.length) {
    const fix = fixOf(rows[0]);
    const more = rows.length > 1 ? ` +${rows.length - 1}` : '';
    return { tone: 'error', text: `Unprotected: ${positionWords(rows[0])}${more} — ${fix.label}`, fix };
  }
  const locked = lockedView(status, positions, orders);
  if (locked) return { tone: 'warn', text: locked.text, fix: { tab: 'setup', focus: 'vault', reason: 'locked' } };
  return null;
}

/** A bar button's label and accessible name from the ticket's view ({symbol, sizeText, ok}). */
export function barButton(side, view) {
  const verb = side === 'BUY' ? 'BUY' : 'SELL';
  if (!view || !view.symbol) return { symbol: 'no ticket', size: '', label: `${verb}: set up the ticket first` };
  if (!view.ok) return { symbol: view.symbol, size: 'fix the ticket', label: `${verb} ${view.symbol}: the ticket needs fixing` };
  return { symbol: view.symbol, size: view.sizeText, label: `${verb === 'BUY' ? 'Buy' : 'Sell'} ${view.sizeText} of ${view.symbol}` };
}

export function mountActionBar(root, client) {
  const store = tradeStore(client);
  const dot = h('span', { class: 'bar-dot', id: 'bar-dot', 'data-tone': 'idle', role: 'img' });
  const side = (s) => {
    const symbol = h('small', { class: 'bar-what bar-symbol', id: `bar-${s.toLowerCase()}-symbol` });
    const size = h('small', { class: 'bar-what bar-size', id: `bar-${s.toLowerCase()}-size` });
    const btn = h('button', { type: 'button', class: `btn-trade ${s === 'BUY' ? 'buy' : 'sell'}`, id: `bar-${s.toLowerCase()}` },
      h('span', { class: 'bar-verb' }, s), symbol, size);
    return { btn, symbol, size };
  };
  const buy = side('BUY');
  const sell = side('SELL');
  const pnl = h('span', { class: 'bar-pnl mono', id: 'bar-pnl', title: 'Total unrealized P&L' }, '—');
  const fill = h('span', { class: 'bar-fill mono', id: 'bar-fill', hidden: true });
  const alertLine = h('button', { type: 'button', class: 'bar-alert', id: 'bar-alert', hidden: true });
  const info = h('span', { class: 'bar-info' }, alertLine, pnl, fill);
  const flatten = flattenControl(store, { id: 'bar-flatten', cls: 'btn-small btn-flatten bar-flatten', label: 'Flatten' });
  const restore = h('button', { type: 'button', class: 'btn-small', id: 'bar-restore', 'aria-label': 'Restore the full panel' }, '▢');
  const result = h('span', { class: 'sr-only', id: 'bar-result', 'aria-live': 'polite' });
  const confirm = hotkeyConfirm({ id: 'bar-confirm', compact: true });
  root.style.position = 'relative'; // the confirm covers the bar
  root.replaceChildren(dot, buy.btn, sell.btn, info, flatten.button, restore, result, confirm.el);
  const toggle = document.getElementById('minimise-toggle');
  let last = null;
  let fillTimer = null;

  // BUY / SELL press the ticket's own buttons: one code path; the ticket's answer (and each later
  // status of that order) is mirrored into the bar's screen-reader line.
  const press = (id) => document.getElementById(id)?.click();
  buy.btn.addEventListener('click', () => press('ticket-buy'));
  sell.btn.addEventListener('click', () => press('ticket-sell'));
  store.on('ticket-result', (r) => { result.textContent = r.text; });
  store.on('flatten', (st) => { if (st.text) result.textContent = st.text; });

  function renderTicket() {
    for (const [s, parts] of [['BUY', buy], ['SELL', sell]]) {
      const v = barButton(s, store.ticketView);
      parts.symbol.textContent = v.symbol;
      parts.size.textContent = v.size;
      parts.btn.setAttribute('aria-label', v.label);
      parts.btn.title = v.label;
    }
  }

  function renderDot() {
    const view = tradeIndicator(client.status, store.activeBroker);
    dot.dataset.tone = view.tone;
    const text = `Connection: ${view.label}${view.detail ? ` — ${view.detail}` : ''}`;
    dot.setAttribute('aria-label', text);
    dot.title = text;
  }

  function renderFill() {
    const f = store.lastFill;
    const age = f ? Date.now() - f.atMs : Infinity;
    if (!f || age >= FILL_SHOW_MS) {
      fill.hidden = true;
      pnl.hidden = false;
      return;
    }
    fill.textContent = orderStatusText(f.order, store.symbols.get(f.order.symbol));
    fill.dataset.side = f.order.side;
    fill.hidden = false;
    pnl.hidden = true;
    if (fillTimer) clearTimeout(fillTimer);
    fillTimer = setTimeout(renderFill, FILL_SHOW_MS - age + 10);
  }
  store.on('fill', (f) => {
    renderFill();
    result.textContent = orderStatusText(f.order, store.symbols.get(f.order.symbol));
  });

  function apply(on) {
    document.body.dataset.minimised = on ? 'true' : 'false';
    root.hidden = !on;
    if (toggle) {
      toggle.setAttribute('aria-pressed', String(on));
      toggle.textContent = on ? 'Expand' : 'Minimise';
    }
  }

  function set(on) {
    apply(on);
    try { chrome.storage.local.set({ [MINIMISED_KEY]: on }); } catch { /* storage unavailable */ }
  }

  let alertFix = null;
  alertLine.addEventListener('click', () => {
    if (!alertFix) return;
    set(false); // the full panel, on the control that fixes it
    requestFix(alertFix);
  });
  function renderAlert() {
    const a = barAlert(store.status, store.positions, store.orders);
    alertFix = a?.fix ?? null;
    alertLine.hidden = !a;
    alertLine.textContent = a?.text ?? '';
    alertLine.dataset.tone = a?.tone ?? 'none';
    if (a) alertLine.title = a.text;
  }
  store.on('status', renderAlert);
  store.on('positions', renderAlert);
  store.on('orders', renderAlert);
  renderAlert();

  toggle?.addEventListener('click', () => set(document.body.dataset.minimised !== 'true'));
  restore.addEventListener('click', () => set(false));
  try {
    chrome.storage.local.get(MINIMISED_KEY).then((got) => apply(Boolean(got?.[MINIMISED_KEY])), () => apply(false));
    chrome.storage.onChanged.addListener((changes, area) => {
      if (area === 'local' && MINIMISED_KEY in changes) apply(Boolean(changes[MINIMISED_KEY].newValue));
    });
  } catch {
    apply(false);
  }

  function render() {
    const t = totalPnl(store.positions);
    pnl.textContent = t.text;
    pnl.dataset.sign = t.cls;
    const dir = pnlDirection(last, t.raw);
    if (dir === 'up') replayClass(pnl, 'flash-up', ['shake-down']);
    else if (dir === 'down') replayClass(pnl, 'shake-down', ['flash-up']);
    last = t.raw;
  }
  store.on('positions', render);
  store.on('ticket', renderTicket);
  store.on('host', renderDot);
  store.on('status', renderDot);
  store.on('accounts', renderDot);
  render();
  renderTicket();
  renderDot();
  renderFill();
}
