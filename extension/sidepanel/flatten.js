// "Flatten all": the panel's panic button, in the Trade tab and on the minimised action bar.
// Both buttons run the store's one flatten (the host's `flatten`, the same Desk.flatten as the
// Alt+Shift+F hotkey: cancel every order, then close every position reduce-only), share its
// double-press guard, and show its answer.

import { h } from './dom.js';

/**
 * @param {object} store the trade store
 * @param {{id: string, resultId?: string, cls?: string, label?: string}} o
 * @returns {{button: HTMLButtonElement, result: HTMLElement|null}}
 */
export function flattenControl(store, { id, resultId, cls = 'btn-small btn-flatten', label = 'Flatten all' }) {
  const button = h('button', {
    type: 'button', class: cls, id,
    title: 'Cancel every order and close every position of the active account (as Alt+Shift+F)',
  }, label);
  const result = resultId ? h('p', { class: 'action-result flatten-result', id: resultId, role: 'status' }) : null;

  function render() {
    const st = store.flattenState;
    button.disabled = st.busy || !store.accounts.active_id;
    button.setAttribute('aria-busy', String(st.busy));
    button.dataset.state = st.busy ? 'busy' : st.atMs ? 'done' : 'idle';
    if (result) {
      result.textContent = st.text;
      result.dataset.tone = st.tone;
      result.title = st.detail ?? '';
    }
  }

  button.addEventListener('click', () => { store.flatten(); });
  store.on('flatten', render);
  store.on('accounts', render);
  render();
  return { button, result };
}
