// Setup: pre-trade risk limits (risk.get / risk.set). Checked here, enforced by the host.

import { followHost, h, labelled } from './dom.js';
import { RISK_FIELDS, buildRiskLimits, riskForm } from './profiles.js';
import { describeFailure } from './ticket_form.js';

export function mountRisk(root, client) {
  const inputs = {};
  const fields = RISK_FIELDS.map(([name, label, hint]) => {
    inputs[name] = h('input', { name, inputmode: name === 'max_orders_per_minute' ? 'numeric' : 'decimal', autocomplete: 'off', class: 'mono', placeholder: 'no limit' });
    return labelled(label, inputs[name], { hint });
  });
  const save = h('button', { type: 'submit', class: 'btn', id: 'risk-save' }, 'Save limits');
  const result = h('p', { class: 'action-result', id: 'risk-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'setup-form', id: 'risk-form', novalidate: true }, ...fields, h('div', { class: 'form-actions' }, save), result);
  root.replaceChildren(h('h2', { id: 'risk-title' }, 'Risk limits'),
    h('p', { class: 'hint' }, 'Orders above a limit are refused before they reach the exchange; reducing orders never are. Empty means no limit.'),
    form);
  root.setAttribute('aria-labelledby', 'risk-title');

  function fill(limits) {
    const v = riskForm(limits);
    for (const [name] of RISK_FIELDS) inputs[name].value = v[name];
  }

  function show(text, tone) {
    result.textContent = text;
    result.dataset.tone = tone;
  }

  async function load({ quiet = false } = {}) {
    try {
      const reply = await client.request('risk.get');
      fill(reply.limits);
      sync.clean();
      if (!quiet) show('', 'none');
      form.dataset.loaded = 'true';
    } catch (err) {
      show(`Could not read the limits: ${describeFailure(err).text}`, 'error');
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const input of Object.values(inputs)) input.removeAttribute('aria-invalid');
    const values = Object.fromEntries(Object.entries(inputs).map(([k, input]) => [k, input.value]));
    const { limits, errors } = buildRiskLimits(values);
    if (!limits) {
      for (const er of errors) inputs[er.field]?.setAttribute('aria-invalid', 'true');
      show(errors.map((er) => er.message).join(' '), 'error');
      inputs[errors[0].field]?.focus();
      return;
    }
    show('Saving…', 'busy');
    try {
      const reply = await client.request('risk.set', { limits });
      fill(reply.limits);
      sync.clean();
      show('Saved.', 'ok');
    } catch (err) {
      show(describeFailure(err).text, 'error');
    }
  });

  const sync = followHost(client, form, load);
}
