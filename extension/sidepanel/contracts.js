// Setup: Volumetrica contract ids pinned by the trader (settings.contracts.get / .set).
// Contracts are normally found by symbol lookup; a pin wins over it, from the next connection.

import { followHost, h, labelled } from './dom.js';
import { formatContracts, parseContracts } from './contracts_form.js';
import { describeFailure } from './ticket_form.js';

export function mountContracts(root, client) {
  const text = h('textarea', { name: 'volumetrica', id: 'contracts-text', rows: 4, class: 'mono', spellcheck: 'false', placeholder: '/ESZ26:XCME = 4242' });
  const save = h('button', { type: 'submit', class: 'btn', id: 'contracts-save' }, 'Save pins');
  const result = h('p', { class: 'action-result', id: 'contracts-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'setup-form', id: 'contracts-form', novalidate: true },
    labelled('Volumetrica contract ids', text, { hint: 'One per line: SYMBOL = id (feed symbol or symbol). Used from the next connection.' }),
    h('div', { class: 'form-actions' }, save), result);
  root.replaceChildren(h('h2', { id: 'contracts-title' }, 'Contracts'), form);
  root.setAttribute('aria-labelledby', 'contracts-title');

  function show(message, tone) {
    result.textContent = message;
    result.dataset.tone = tone;
  }

  async function load({ quiet = false } = {}) {
    try {
      const reply = await client.request('settings.contracts.get');
      text.value = formatContracts(reply.volumetrica);
      sync.clean();
      form.dataset.loaded = 'true';
      if (!quiet) show('', 'none');
    } catch (err) {
      show(`Could not read the pins: ${describeFailure(err).text}`, 'error');
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const { map, errors } = parseContracts(text.value);
    if (errors.length) {
      show(errors.join('; '), 'error');
      return;
    }
    save.disabled = true;
    try {
      const reply = await client.request('settings.contracts.set', { volumetrica: map });
      text.value = formatContracts(reply.volumetrica);
      sync.clean();
      show(`Saved ${Object.keys(reply.volumetrica).length} pin(s); they apply from the next connection.`, 'ok');
    } catch (err) {
      show(describeFailure(err).text, 'error');
    } finally {
      save.disabled = false;
    }
  });

  const sync = followHost(client, form, load);
}
