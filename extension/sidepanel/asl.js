// Setup: the Advanced Stop Loss profile (asl.get / asl.set): on/off, hard stop, safety stop,
// trailing levels (profit that starts a level, callback of its trailing stop), profit as ROE.
// Checked here (levels only tighten, callbacks within Binance's 0.1-20 %), enforced by the host.

import { followHost, h, labelled } from './dom.js';
import { CALLBACK_MAX, CALLBACK_MIN, MAX_LEVELS, aslForm, buildAslProfile } from './profiles.js';
import { describeFailure } from './ticket_form.js';

export function mountAsl(root, client) {
  const enabled = h('input', { type: 'checkbox', name: 'enabled', id: 'asl-enabled' });
  const useRoe = h('input', { type: 'checkbox', name: 'use_roe', id: 'asl-roe' });
  const hard = h('input', { name: 'hard_stop_pct', inputmode: 'decimal', class: 'mono' });
  const safety = h('input', { name: 'safety_stop_pct', inputmode: 'decimal', class: 'mono' });
  const levelsBody = h('tbody', { id: 'asl-levels' });
  const addLevel = h('button', { type: 'button', class: 'btn-small', id: 'asl-add' }, 'Add level');
  const save = h('button', { type: 'submit', class: 'btn', id: 'asl-save' }, 'Save profile');
  const result = h('p', { class: 'action-result', id: 'asl-result', 'aria-live': 'polite' });
  const form = h('form', { class: 'setup-form', id: 'asl-form', novalidate: true },
    h('label', { class: 'check' }, enabled, ' Protect new positions with ASL'),
    h('div', { class: 'form-row' },
      labelled('Hard stop %', hard, { hint: 'adverse move from entry' }),
      labelled('Safety stop %', safety, { hint: 'when no working stop is found' })),
    h('table', { class: 'grid asl-levels' },
      h('caption', { class: 'sr-only' }, 'Trailing levels'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Level'), h('th', { scope: 'col' }, 'Profit ≥ %'),
        h('th', { scope: 'col' }, `Callback % (${CALLBACK_MIN}–${CALLBACK_MAX})`), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Remove')))),
      levelsBody),
    h('div', { class: 'form-row' }, addLevel, h('label', { class: 'check' }, useRoe, ' Measure profit as ROE (× leverage)')),
    h('div', { class: 'form-actions' }, save),
    result);
  root.replaceChildren(h('h2', { id: 'asl-title' }, 'Advanced Stop Loss'),
    h('p', { class: 'hint' }, 'Every position gets a stop on the exchange when it fills; it tightens level by level as profit grows and never loosens.'),
    form);
  root.setAttribute('aria-labelledby', 'asl-title');

  let current = {};

  function levelRow(level = { profit_pct: '', callback_pct: '' }) {
    const profit = h('input', { name: 'profit_pct', inputmode: 'decimal', class: 'mono', value: level.profit_pct });
    const cb = h('input', { name: 'callback_pct', inputmode: 'decimal', class: 'mono', value: level.callback_pct });
    const tr = h('tr', { class: 'asl-level' });
    const remove = h('button', { type: 'button', class: 'btn-small', onclick: () => { tr.remove(); renumber(); } }, 'Remove');
    tr.append(h('th', { scope: 'row' }, ''), h('td', {}, profit), h('td', {}, cb), h('td', {}, remove));
    return tr;
  }

  function renumber() {
    [...levelsBody.rows].forEach((tr, i) => {
      tr.cells[0].textContent = String(i + 1);
      const [p, c] = tr.querySelectorAll('input');
      p.setAttribute('aria-label', `Level ${i + 1} profit %`);
      c.setAttribute('aria-label', `Level ${i + 1} callback %`);
    });
    addLevel.disabled = levelsBody.rows.length >= MAX_LEVELS;
  }

  function fill(reply) {
    current = reply?.profile ?? {};
    const v = aslForm(reply);
    enabled.checked = v.enabled;
    useRoe.checked = v.use_roe;
    hard.value = v.hard_stop_pct;
    safety.value = v.safety_stop_pct;
    levelsBody.replaceChildren(...v.levels.map(levelRow));
    renumber();
  }

  function values() {
    return {
      enabled: enabled.checked,
      use_roe: useRoe.checked,
      hard_stop_pct: hard.value,
      safety_stop_pct: safety.value,
      levels: [...levelsBody.rows].map((tr) => {
        const [p, c] = tr.querySelectorAll('input');
        return { profit_pct: p.value, callback_pct: c.value };
      }),
    };
  }

  function show(text, tone) {
    result.textContent = text;
    result.dataset.tone = tone;
  }

  function inputFor(field) {
    if (field === 'hard_stop_pct') return hard;
    if (field === 'safety_stop_pct') return safety;
    const m = /^levels\.(\d+)\.(profit_pct|callback_pct)$/.exec(field);
    if (!m) return null;
    const tr = levelsBody.rows[Number(m[1])];
    return tr ? tr.querySelectorAll('input')[m[2] === 'profit_pct' ? 0 : 1] : null;
  }

  async function load({ quiet = false } = {}) {
    try {
      fill(await client.request('asl.get'));
      sync.clean();
      if (!quiet) show('', 'none');
      form.dataset.loaded = 'true';
    } catch (err) {
      fill({ enabled: true, profile: { hard_stop_pct: '2', safety_stop_pct: '10', levels: [
        { profit_pct: '1', callback_pct: '2' }, { profit_pct: '2', callback_pct: '1.5' }, { profit_pct: '4', callback_pct: '1' }] } });
      const why = err.code === 'unknown_type' ? 'this host has no stop-loss engine yet (showing the defaults)' : describeFailure(err).text;
      show(`Could not read the ASL profile: ${why}`, 'error');
    }
  }

  addLevel.addEventListener('click', () => {
    levelsBody.append(levelRow());
    renumber();
    levelsBody.rows[levelsBody.rows.length - 1].querySelector('input').focus();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const input of form.querySelectorAll('input')) input.removeAttribute('aria-invalid');
    const { request, errors } = buildAslProfile(values(), current);
    if (!request) {
      for (const er of errors) inputFor(er.field)?.setAttribute('aria-invalid', 'true');
      show(errors.map((er) => er.message).join(' '), 'error');
      inputFor(errors[0].field)?.focus();
      return;
    }
    show('Saving…', 'busy');
    try {
      fill(await client.request('asl.set', request));
      sync.clean();
      show('Saved.', 'ok');
    } catch (err) {
      show(describeFailure(err).text, 'error');
    }
  });

  const sync = followHost(client, form, load);
}
