// Positions table: symbol, side, size, entry, mark, unrealized P&L and ROE, liquidation price,
// ASL level and stop; close 25/50/100 %, stop to breakeven, ASL on/off per position. P&L cells
// flash green on a rise and shake red on a fall (static tint with reduced motion); meaningful
// changes are announced politely, rate limited.

import { ageBadge, h, renderAge, replayClass } from './dom.js';
import { PnlAnnouncer, ageView, pnlDirection, positionChanges } from './live.js';
import { describeFailure, describePlaced } from './ticket_form.js';
import { fmtPrice, isNewer, orderStatusText, statusTone } from './words.js';
import { APPROX, aslNote, positionKey, positionRow, totalPnl } from './trade_view.js';
import { tradeStore } from './trade_store.js';

const FRACTIONS = [['0.25', '25 %'], ['0.5', '50 %'], ['1', '100 %']];

export function mountPositions(root, client) {
  const store = tradeStore(client);
  const age = ageBadge(() => store.refresh('positions'));
  const count = h('span', { class: 'muted count' });
  const total = h('span', { class: 'pnl-total mono', id: 'positions-total' });
  const body = h('div', { class: 'pos-list', id: 'positions-body' });
  const empty = h('p', { class: 'muted empty-line' }, 'No open positions.');
  const result = h('p', { class: 'action-result', id: 'positions-result', 'aria-live': 'polite' });
  const announce = h('p', { class: 'sr-only', id: 'pnl-announce', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const table = h('table', { class: 'grid pos-table', 'aria-label': 'Open positions' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Position'),
      h('th', { scope: 'col', class: 'num' }, 'Entry / Mark'),
      h('th', { scope: 'col', class: 'num' }, 'P&L (ROE)'),
      h('th', { scope: 'col', class: 'num' }, 'Liq.'),
      h('th', { scope: 'col' }, 'ASL · stop'))),
  );
  root.replaceChildren(
    h('div', { class: 'card-head' }, h('h2', {}, 'Positions ', count), total, age),
    table, empty, result, announce,
  );
  root.classList.add('card', 'trade-only');

  const rows = new Map(); // key -> {tbody, cells, pnlRaw}
  const announcer = new PnlAnnouncer();
  let prevPositions = [];

  function say(text) {
    if (!text) return;
    // Re-setting the same text would not be read again: clear first.
    announce.textContent = '';
    requestAnimationFrame(() => { announce.textContent = text; });
  }

  let following = null; // {clientId, label, info, last}: the close order whose status the line shows

  function show(text, tone, detail = '') {
    result.dataset.tone = tone;
    result.textContent = text;
    result.title = detail;
  }

  store.on('order', (order) => {
    if (!following || order.client_id !== following.clientId || !isNewer(order, following.last)) return;
    following.last = order;
    show(`${following.label}: ${orderStatusText(order, following.info)}`, statusTone(order.status), following.detail);
  });

  async function act(label, type, payload) {
    show(`${label}…`, 'busy');
    following = null;
    const info = store.symbols.get(payload.symbol);
    const t0 = performance.now();
    try {
      const reply = await client.request(type, payload, { timeoutMs: 15_000 });
      const panelMs = performance.now() - t0;
      if (type === 'position.close') {
        const pos = store.positions.positions.find((p) => p.symbol === payload.symbol && (p.position_side ?? 'BOTH') === payload.position_side);
        const side = pos ? (pos.side === 'SHORT' ? 'BUY' : 'SELL') : undefined;
        const view = describePlaced(reply, { side, type: 'MARKET', info, panelMs });
        following = { clientId: reply?.client_id, label, info, detail: view.detail, last: { status: view.status, filled: reply?.filled ?? '0', update_time_ms: 0 } };
        show(`${label}: ${view.text}`, view.tone, view.detail);
        const early = store.orderReport(reply?.client_id);
        if (early && isNewer(early, following.last)) show(`${label}: ${orderStatusText(early, info)}`, statusTone(early.status), view.detail);
      } else if (type === 'position.breakeven') {
        show(reply?.stop_price
          ? `${label}: stop at ${fmtPrice(reply.stop_price, info, { currency: true })}`
          : `${label}: requested — the stop moves to the entry price if that tightens it`, 'ok');
      } else {
        show(`${label}: done`, 'ok');
      }
    } catch (err) {
      const view = describeFailure(err, info);
      show(`${label}: ${view.text}`, 'error', view.detail);
    }
  }

  function build(p) {
    const cells = {
      pos: h('button', { type: 'button', class: 'pos-select', 'aria-pressed': 'false' }),
      size: h('span', { class: 'mono pos-size' }),
      entry: h('span', { class: 'mono' }),
      mark: h('span', { class: 'mono' }),
      pnl: h('span', { class: 'mono pnl' }),
      roe: h('span', { class: 'mono roe' }),
      liq: h('td', { class: 'num mono' }),
      asl: h('span', { class: 'asl-level' }),
      stop: h('span', { class: 'mono' }),
      aslMsg: h('span', { class: 'asl-msg muted' }),
      aslToggle: h('button', { type: 'button', class: 'btn-small asl-toggle', 'aria-pressed': 'false' }, 'ASL'),
    };
    const symbol = p.symbol;
    const positionSide = p.position_side ?? 'BOTH';
    const target = { symbol, position_side: positionSide };
    cells.pos.addEventListener('click', () => store.select(store.positions.positions.find((x) => positionKey(x) === positionKey(p)) ?? p));
    const actions = h('div', { class: 'pos-actions', role: 'group', 'aria-label': `Actions for ${symbol}` },
      h('span', { class: 'muted' }, 'Close'),
      ...FRACTIONS.map(([fraction, label]) => h('button', {
        type: 'button', class: 'btn-small close', 'data-fraction': fraction,
        'aria-label': `Close ${label} of ${symbol}`,
        onclick: () => act(`Close ${label} ${symbol}`, 'position.close', { ...target, fraction }),
      }, label)),
      h('button', {
        type: 'button', class: 'btn-small be', 'aria-label': `Move the stop of ${symbol} to breakeven`,
        onclick: () => act(`Breakeven ${symbol}`, 'position.breakeven', target),
      }, 'Stop → BE'),
      cells.aslToggle,
      cells.aslMsg);
    cells.aslToggle.addEventListener('click', () => {
      const enabled = cells.aslToggle.getAttribute('aria-pressed') !== 'true';
      act(`ASL ${enabled ? 'on' : 'off'} ${symbol}`, 'asl.toggle', { ...target, enabled }).then(() => {
        if (result.dataset.tone === 'ok') cells.aslToggle.setAttribute('aria-pressed', String(enabled));
      });
    });
    const tbody = h('tbody', { class: 'pos', dataset: { key: positionKey(p), symbol } },
      h('tr', { class: 'pos-main' },
        h('td', {}, cells.pos, h('br'), cells.size),
        h('td', { class: 'num' }, cells.entry, h('br'), cells.mark),
        h('td', { class: 'num pnl-cell' }, cells.pnl, h('br'), cells.roe),
        cells.liq,
        h('td', {}, cells.asl, h('br'), cells.stop)),
      h('tr', { class: 'pos-sub' }, h('td', { colspan: '5' }, actions)));
    return { tbody, cells, pnlRaw: undefined };
  }

  function update(entry, p, selectedKey) {
    const v = positionRow(p, store.symbols);
    const c = entry.cells;
    c.pos.replaceChildren(h('strong', {}, v.symbol), ' ', h('span', { class: `side ${v.sideClass}` }, v.side), v.leverage ? h('span', { class: 'muted' }, ` ${v.leverage}`) : '',
      v.lastKnown ? h('span', { class: 'last-known', title: 'From the journal: the host has not reached the exchange since it started' }, ' last known') : '');
    entry.tbody.dataset.lastKnown = String(v.lastKnown);
    c.pos.setAttribute('aria-pressed', String(positionKey(p) === selectedKey));
    c.pos.title = 'Show on the chart; the close-half and breakeven hotkeys act on it';
    c.size.textContent = v.size;
    c.size.dataset.size = v.sizeRaw;
    c.entry.textContent = v.entry;
    c.mark.textContent = v.mark;
    c.liq.textContent = v.liq;
    if (c.pnl.textContent !== v.pnl) c.pnl.textContent = v.pnl;
    c.pnl.dataset.sign = v.pnlClass;
    c.roe.textContent = v.roe;
    c.roe.dataset.sign = v.pnlClass;
    const dir = pnlDirection(entry.pnlRaw, p.unrealized_pnl);
    if (dir === 'up') replayClass(c.pnl, 'flash-up', ['shake-down']);
    else if (dir === 'down') replayClass(c.pnl, 'shake-down', ['flash-up']);
    entry.pnlRaw = p.unrealized_pnl;
    c.asl.textContent = v.asl;
    c.asl.dataset.on = String(v.aslOn);
    c.stop.textContent = v.stop === '—' ? '' : `stop ${v.stopApprox ? `${APPROX} ` : ''}${v.stop}${v.next ? ` · next ${v.next}` : ''}`;
    c.stop.dataset.approx = String(v.stopApprox);
    c.stop.title = v.stopApprox
      ? 'Where the trailing stop is now, computed from the mark price since it was placed: the exchange does not report it'
      : '';
    const t = store.asl.get(String(p.id));
    const on = typeof t?.enabled === 'boolean' ? t.enabled : v.aslOn;
    c.aslToggle.setAttribute('aria-pressed', String(on));
    c.aslToggle.textContent = on ? 'ASL on' : 'ASL off';
    c.aslMsg.textContent = aslNote(t, store.symbols.get(p.symbol));
  }

  function render(snapshot = false) {
    const list = store.positions.positions;
    const sel = store.selected;
    const selectedKey = sel ? positionKey(sel) : '';
    const seen = new Set();
    for (const p of list) {
      const key = positionKey(p);
      seen.add(key);
      let entry = rows.get(key);
      if (!entry) {
        entry = build(p);
        rows.set(key, entry);
      }
      table.append(entry.tbody); // keeps the host's order
      update(entry, p, selectedKey);
    }
    for (const [key, entry] of rows) {
      if (!seen.has(key)) { entry.tbody.remove(); rows.delete(key); }
    }
    table.hidden = list.length === 0;
    empty.hidden = list.length !== 0;
    count.textContent = list.length ? `(${list.length})` : '';
    const t = totalPnl(store.positions);
    total.textContent = list.length ? t.text : '';
    total.dataset.sign = t.cls;

    // A snapshot (panel opened, resync) is not news: only live changes are announced as such.
    const changes = snapshot ? [] : positionChanges(prevPositions, list);
    prevPositions = list;
    if (changes.length) {
      say(changes.join('. '));
      if (t.raw !== null) announcer.heard(t.raw, Date.now()); // the P&L follows at its own pace
    } else if (t.raw !== null) say(announcer.consider(t.raw, t.asset, Date.now()));
    if (!list.length) announcer.reset();
  }

  function renderAges() {
    renderAge(age, ageView(store.ageS('positions')));
  }

  store.on('positions', (_payload, meta) => { render(Boolean(meta?.snapshot)); renderAges(); });
  store.on('asl', () => render(true));
  store.on('symbols', () => render(true));
  store.on('selection', () => render(true));
  store.on('tick', renderAges);
  render(true);
  renderAges();
}
