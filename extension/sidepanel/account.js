// Account: wallet balance, equity, margin used, available, today's realized P&L (active account).

import { ageBadge, h, renderAge } from './dom.js';
import { ageView } from './live.js';
import { accountRows } from './trade_view.js';
import { tradeStore } from './trade_store.js';

export function mountAccount(root, client) {
  const store = tradeStore(client);
  const age = ageBadge(() => store.refresh('account'));
  const body = h('div', { id: 'account-body' });
  root.replaceChildren(h('div', { class: 'card-head' }, h('h2', {}, 'Account'), age), body);
  root.classList.add('card', 'trade-only');

  function render() {
    const rows = accountRows(store.account, store.accounts.active_id);
    if (!rows.length) {
      body.replaceChildren(h('p', { class: 'muted empty-line' }, 'No balances yet.'));
      return;
    }
    body.replaceChildren(...rows.map((r) => h('dl', { class: 'kv kv-account', dataset: { asset: r.asset } },
      ...r.items.flatMap(([k, v]) => [
        h('dt', {}, k),
        h('dd', k === 'Realized today' ? { dataset: { sign: r.realizedClass } } : {}, `${v} ${r.asset}`),
      ]))));
  }

  const renderAges = () => renderAge(age, ageView(store.ageS('account')));
  store.on('account', () => { render(); renderAges(); });
  store.on('accounts', render);
  store.on('tick', renderAges);
  render();
  renderAges();
}
