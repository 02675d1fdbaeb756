// A compact chart of the selected position (TradingView lightweight-charts, vendored): the mark
// price from the `quotes` topic, and horizontal lines for entry, the current stop, the next ASL
// threshold and the liquidation price.

import { h } from './dom.js';
import { decimalsOf } from './num.js';
import { fmtPrice, trimDecimal } from './words.js';
import { APPROX, addPoint, chartLines, positionRow } from './trade_view.js';
import { tradeStore } from './trade_store.js';

const LIB = '../vendor/lightweight-charts/lightweight-charts.standalone.production.mjs';
const LINE_STYLES = { entry: 0, stop: 2, next: 1, liq: 3 }; // Solid, Dashed, Dotted, LargeDashed

function css(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

function theme() {
  return {
    text: css('--muted', '#8b95a5'),
    grid: css('--border', '#2a313c'),
    bg: css('--bg-raised', '#161b22'),
    line: css('--accent', '#4c9aff'),
    entry: css('--muted', '#8b95a5'),
    stop: css('--sell', '#e5534b'),
    next: css('--warn', '#d29922'),
    liq: css('--sell', '#e5534b'),
  };
}

export function mountChart(root, client) {
  const store = tradeStore(client);
  const title = h('span', { class: 'chart-title mono', id: 'chart-title' });
  const box = h('div', { class: 'chart-box', id: 'chart-box', role: 'img', 'aria-label': 'Price chart of the selected position' });
  const legend = h('p', { class: 'chart-legend muted', id: 'chart-legend' });
  const note = h('p', { class: 'muted empty-line', id: 'chart-empty' }, 'Open a position to see its chart.');
  root.replaceChildren(h('div', { class: 'card-head' }, h('h2', {}, 'Chart'), title), box, legend, note);
  root.classList.add('card', 'trade-only');

  const history = new Map(); // symbol -> [{time, value}]
  let lib = null;
  let chart = null;
  let series = null;
  let shownSymbol = '';
  let lines = new Map(); // key -> {line, price}
  let failed = null;
  let scalePrices = []; // entry, stop and next threshold stay in view (liquidation may be far away)

  function feed() {
    for (const [symbol, q] of Object.entries(store.quotes)) {
      const price = q.mark ?? q.last;
      if (price === undefined) continue;
      let s = history.get(symbol);
      if (!s) { s = []; history.set(symbol, s); }
      const what = addPoint(s, Number.isFinite(q.ts_ms) ? q.ts_ms : q.recvMs, price);
      if (what && series && symbol === shownSymbol) series.update({ ...s[s.length - 1] });
    }
  }

  async function ensureChart() {
    if (chart || failed) return Boolean(chart);
    try {
      lib = lib ?? await import(LIB);
    } catch (e) {
      failed = e;
      note.hidden = false;
      note.textContent = `The chart library failed to load: ${e?.message ?? e}`;
      return false;
    }
    if (chart) return true;
    const t = theme();
    chart = lib.createChart(box, {
      autoSize: true,
      layout: { background: { type: 'solid', color: t.bg }, textColor: t.text, fontSize: 11 },
      grid: { vertLines: { color: t.grid }, horzLines: { color: t.grid } },
      rightPriceScale: { borderColor: t.grid },
      timeScale: { borderColor: t.grid, timeVisible: true, secondsVisible: true },
      crosshair: { mode: 0 },
      handleScroll: false,
      handleScale: false,
    });
    series = chart.addSeries(lib.LineSeries, {
      color: t.line, lineWidth: 2, priceLineVisible: true, lastValueVisible: true,
      autoscaleInfoProvider: (original) => {
        const res = original();
        if (!scalePrices.length) return res;
        const lo = Math.min(...scalePrices, res?.priceRange?.minValue ?? Infinity);
        const hi = Math.max(...scalePrices, res?.priceRange?.maxValue ?? -Infinity);
        return { priceRange: { minValue: lo, maxValue: hi }, margins: res?.margins };
      },
    });
    matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
      const c = theme();
      chart.applyOptions({
        layout: { background: { type: 'solid', color: c.bg }, textColor: c.text },
        grid: { vertLines: { color: c.grid }, horzLines: { color: c.grid } },
      });
      series.applyOptions({ color: c.line });
      for (const [key, entry] of lines) entry.line.applyOptions({ color: c[key] });
    });
    return true;
  }

  let formatFor = null; // the symbol whose tick the price axis shows

  async function render() {
    const p = store.selected;
    if (!p) {
      box.hidden = true;
      legend.textContent = '';
      title.textContent = '';
      note.hidden = false;
      if (!failed) note.textContent = 'Open a position to see its chart.';
      box.dataset.lines = '';
      return;
    }
    note.hidden = !failed;
    box.hidden = Boolean(failed);
    const v = positionRow(p, store.symbols);
    title.textContent = `${v.symbol} ${v.side} ${v.size}`;
    const wanted = chartLines(p, store.asl.get(String(p.id)));
    scalePrices = wanted.filter((l) => l.key !== 'liq').map((l) => l.price);
    const info = store.symbols.get(p.symbol);
    legend.textContent = wanted.map((l) => `${l.title} ${l.approx ? `${APPROX} ` : ''}${fmtPrice(l.value, info)}`).join(' · ');
    box.dataset.lines = wanted.map((l) => l.key).join(',');
    box.dataset.symbol = p.symbol;
    if (!(await ensureChart())) return;
    const tick = Number.parseFloat(info?.tick_size);
    if (Number.isFinite(tick) && tick > 0 && formatFor !== p.symbol) {
      formatFor = p.symbol;
      series.applyOptions({ priceFormat: { type: 'price', precision: decimalsOf(trimDecimal(info.tick_size)) ?? 2, minMove: tick } });
    }
    if (shownSymbol !== p.symbol) {
      shownSymbol = p.symbol;
      series.setData((history.get(p.symbol) ?? []).map((x) => ({ ...x })));
      chart.timeScale().fitContent();
    }
    const t = theme();
    const keep = new Set();
    for (const l of wanted) {
      keep.add(l.key);
      const have = lines.get(l.key);
      // a trailing stop's computed level: "stop ≈ (level 3)" beside its axis label
      const label = l.approx ? l.title.replace(/^stop/, `stop ${APPROX}`) : l.title;
      if (have && have.price === l.price && have.title === label) continue;
      if (have) series.removePriceLine(have.line);
      const line = series.createPriceLine({
        price: l.price, color: t[l.key], lineWidth: 1, lineStyle: LINE_STYLES[l.key] ?? 0, axisLabelVisible: true, title: label,
      });
      lines.set(l.key, { line, price: l.price, title: label });
    }
    for (const [key, entry] of lines) {
      if (!keep.has(key)) { series.removePriceLine(entry.line); lines.delete(key); }
    }
    box.dataset.ready = 'true';
  }

  store.on('quotes', feed);
  store.on('positions', render);
  store.on('selection', render);
  store.on('asl', render);
  store.on('symbols', render); // prices and sizes on the instrument's grid once its rules arrive
  feed();
  render();
}
