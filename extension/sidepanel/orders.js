// Open orders, including algo (stop / take-profit / trailing) orders, each with Cancel; Cancel all.

import { ageBadge, h, renderAge } from './dom.js';
import { ageView } from './live.js';
import { describeFailure } from './ticket_form.js';
import { orderWords, statusWords } from './words.js';
import { orderRow, sortOrders } from './trade_view.js';
import { tradeStore } from './trade_store.js';

export function mountOrders(root, client) {
  const store = tradeStore(client);
  const age = ageBadge(() => store.refresh('orders'));
  const count = h('span', { class: 'muted count' });
  const cancelAll = h('button', { type: 'button', class: 'btn-small', id: 'orders-cancel-all' }, 'Cancel all');
  const tbody = h('tbody', { id: 'orders-body' });
  const table = h('table', { class: 'grid orders-table', 'aria-label': 'Open orders' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Order'),
      h('th', { scope: 'col', class: 'num' }, 'Price'),
      h('th', { scope: 'col', class: 'num' }, 'Filled / qty'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Cancel')))),
    tbody);
  const empty = h('p', { class: 'muted empty-line' }, 'No open orders.');
  const result = h('p', { class: 'action-result', id: 'orders-result', 'aria-live': 'polite' });
  root.replaceChildren(
    h('div', { class: 'card-head' }, h('h2', {}, 'Orders ', count), h('span', { class: 'head-tools' }, cancelAll, age)),
    table, empty, result);
  root.classList.add('card', 'trade-only');

  async function run(label, type, payload, order = null) {
    result.dataset.tone = 'busy';
    result.textContent = `${label}…`;
    const info = order ? store.symbols.get(order.symbol) : undefined;
    try {
      const reply = await client.request(type, payload, { timeoutMs: 15_000 });
      result.dataset.tone = 'ok';
      if (type === 'orders.cancel_all') {
        const n = Number(reply?.cancelled ?? 0);
        result.textContent = n ? `Cancelled ${n} ${n === 1 ? 'order' : 'orders'}` : 'Cancel all: there was no open order';
      } else if (reply?.status === 'CANCELED') {
        result.textContent = `Cancelled: ${orderWords(order, info)}`;
      } else {
        result.textContent = `${label}: the exchange says ${statusWords(reply?.status)}`;
      }
    } catch (err) {
      const view = describeFailure(err, info);
      result.dataset.tone = 'error';
      result.textContent = `${label}: ${view.text}`;
      result.title = view.detail;
    }
  }

  cancelAll.addEventListener('click', () => run('Cancel all', 'orders.cancel_all', {}));

  function render() {
    const list = sortOrders(store.orders.orders);
    tbody.replaceChildren(...list.map((o) => {
      const v = orderRow(o, store.symbols);
      const label = `${v.side} ${v.symbol} ${v.kind}`;
      const btn = h('button', {
        type: 'button', class: 'btn-small cancel', 'aria-label': `Cancel ${label}`,
        onclick: () => run(`Cancel ${label}`, 'order.cancel', v.cancel, o),
      }, 'Cancel');
      return h('tr', { dataset: { orderId: String(o.order_id ?? ''), conditional: String(v.conditional) } },
        h('td', {},
          h('span', { class: `side ${v.sideClass}` }, v.side), ' ', h('strong', {}, v.symbol), ' ',
          h('span', { class: v.conditional ? 'kind algo' : 'kind' }, v.kind),
          v.flags ? h('span', { class: 'muted flags' }, ` ${v.flags}`) : ''),
        h('td', { class: 'num mono' }, v.price),
        h('td', { class: 'num mono' }, v.qty),
        h('td', { class: 'num' }, btn));
    }));
    table.hidden = list.length === 0;
    empty.hidden = list.length !== 0;
    cancelAll.disabled = list.length === 0;
    count.textContent = list.length ? `(${list.length})` : '';
  }

  const renderAges = () => renderAge(age, ageView(store.ageS('orders')));
  store.on('orders', () => { render(); renderAges(); });
  store.on('symbols', render);
  store.on('tick', renderAges);
  render();
  renderAges();
}
