// Setup: "Keep protecting when the browser closes" (service.get / service.set). The service that
// holds the vault, the broker links and ASL stays while a connected account has a position or an
// order; "always" keeps it running with nothing to protect too. Each switch saves at once; a
// change made in another panel is followed (settings_rev).

import { followHost, h } from './dom.js';
import { describeFailure } from './ticket_form.js';

export function mountService(root, client) {
  const keep = h('input', { type: 'checkbox', id: 'service-keep', name: 'keep_protecting' });
  const always = h('input', { type: 'checkbox', id: 'service-always', name: 'always' });
  const result = h('p', { class: 'action-result', id: 'service-result', 'aria-live': 'polite' });
  const hint = h('p', { class: 'hint', id: 'service-hint' });
  const form = h('form', { class: 'setup-form', id: 'service-form', novalidate: true },
    h('label', { class: 'check' }, keep, ' Keep protecting when the browser closes'),
    h('label', { class: 'check' }, always, ' Keep the service running even with nothing to protect'),
    hint, result);
  root.replaceChildren(h('h2', { id: 'service-title' }, 'Keep protecting when the browser closes'), form);
  root.setAttribute('aria-labelledby', 'service-title');

  function show(info) {
    keep.checked = info.keep_protecting;
    always.checked = info.always;
    hint.textContent = !info.enabled
      ? 'The host runs in the browser\u2019s process (the service is off in the settings file): protection stops when the browser closes.'
      : info.keep_protecting
        ? 'Stops keep tightening and a deleted stop is replaced while a position or an order is open, with every browser closed.'
        : `With the browser closed the service exits after ${Math.round(info.idle_exit_s)} s; ASL stops tightening (the stop on the exchange stays).`;
    root.dataset.loaded = 'true';
    sync.clean();
  }

  function say(text, tone) {
    result.textContent = text;
    result.dataset.tone = tone;
  }

  async function load() {
    try {
      show(await client.request('service.get'));
    } catch (err) {
      say(`Could not read the setting: ${describeFailure(err).text}`, 'error');
    }
  }

  async function save(changes) {
    say('Saving\u2026', 'busy');
    try {
      show(await client.request('service.set', changes));
      say('Saved.', 'ok');
    } catch (err) {
      say(`Not saved: ${describeFailure(err).text}`, 'error');
      await load();
    }
  }

  const sync = followHost(client, form, load);
  keep.addEventListener('change', () => save({ keep_protecting: keep.checked }));
  always.addEventListener('change', () => save({ always: always.checked }));
  load();
}
