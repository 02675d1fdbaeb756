// The minimised 60 px action bar: BUY, SELL (the current ticket) and the total unrealized P&L.
// Toggled from the top bar's button and the `toggle_minimised` hotkey (the worker flips a flag in
// chrome.storage.local; every open panel follows it).

import { h, replayClass } from './dom.js';
import { pnlDirection } from './live.js';
import { MINIMISED_KEY } from '../lib/commands.js';
import { totalPnl } from './trade_view.js';
import { tradeStore } from './trade_store.js';

export function mountActionBar(root, client) {
  const store = tradeStore(client);
  const buy = h('button', { type: 'button', class: 'btn-trade buy', id: 'bar-buy' }, 'BUY');
  const sell = h('button', { type: 'button', class: 'btn-trade sell', id: 'bar-sell' }, 'SELL');
  const pnl = h('span', { class: 'bar-pnl mono', id: 'bar-pnl', title: 'Total unrealized P&L' }, '—');
  const restore = h('button', { type: 'button', class: 'btn-small', id: 'bar-restore', 'aria-label': 'Restore the full panel' }, '▢');
  const result = h('span', { class: 'sr-only', id: 'bar-result', 'aria-live': 'polite' });
  root.replaceChildren(buy, sell, pnl, restore, result);
  const toggle = document.getElementById('minimise-toggle');
  let last = null;

  // BUY / SELL press the ticket's own buttons: one code path, the result line shows the answer.
  const press = (id) => {
    const btn = document.getElementById(id);
    if (!btn) return;
    btn.click();
    const line = document.getElementById('ticket-result');
    if (line) setTimeout(() => { result.textContent = line.textContent; }, 0);
  };
  buy.addEventListener('click', () => press('ticket-buy'));
  sell.addEventListener('click', () => press('ticket-sell'));

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
  render();
}
