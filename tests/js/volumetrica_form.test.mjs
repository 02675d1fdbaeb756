// The Volumetrica account form (issue #21): the environments carry the vendor's names, and the
// switch that keeps the trader's other platform logged in is on by default and reaches the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeClient, choose, installDom, settle, type } from './dom_harness.mjs';

const dom = installDom();
const { mountVault } = await import('../../extension/sidepanel/vault.js');

test.after(() => dom.close());

function vaultHost(entries = []) {
  const host = { entries, rev: 0 };
  const client = new FakeClient({
    'vault.status': () => ({ state: 'unlocked', path: '/x/vault.sdv', autolock_s: 900, entries: host.entries.length,
      kdf: null, backup: false, retry_after_s: 0 }),
    'vault.entries': () => ({ entries: host.entries }),
    'vault.put': ({ entry }) => {
      const summary = { id: `id${host.entries.length + 1}`, name: entry.name, broker: entry.broker,
        environment: entry.environment, auth: null, masked: {}, secrets_set: [] };
      host.entries.push(summary);
      host.rev += 1;
      return { entry: summary };
    },
  });
  return { host, client };
}

async function volumetricaForm(id, entries) {
  const root = dom.section(id);
  const { host, client } = vaultHost(entries);
  mountVault(root, client);
  await settle();
  const form = root.querySelector('.vault-add form');
  const get = (name) => form.querySelector(`[name="${name}"]`);
  choose(get('broker'), 'volumetrica');
  return { root, host, client, form, get };
}

test('Volumetrica environments are named as the vendor names them: Production, no demo=Staging', async () => {
  const { form, get } = await volumetricaForm('vol-1');
  const options = [...get('environment').options].map((o) => [o.value, o.textContent]);
  // before #21: demo (sent as Staging, where a trader's login does not exist), live, simulator
  assert.deepEqual(options, [['live', 'Production'], ['simulator', 'Simulator (offline)']]);
  assert.match(form.textContent, /Staging is for prop firms’ managers and developers/);
  choose(get('broker'), 'tradovate'); // the hint belongs to Volumetrica only
  assert.equal(form.querySelector('#' + get('environment').getAttribute('aria-describedby')).hidden, true);
});

test('"keep my other platform logged in" is on by default, survives typing, and is saved', async () => {
  const { client, form, get } = await volumetricaForm('vol-2');
  const keep = get('keep_other_sessions');
  assert.ok(keep, 'the Volumetrica form has no keep-other-sessions switch');
  assert.equal(keep.type, 'checkbox');
  assert.equal(keep.checked, true);
  type(get('name'), 'Apex eval');
  type(get('login'), 'trader1');
  type(get('password'), 'pw-123456');
  type(get('platform_key'), 'PLATFORM-KEY-0001');
  form.requestSubmit();
  await settle();
  let put = client.sent.filter((r) => r.type === 'vault.put').at(-1);
  assert.equal(put.payload.entry.keep_other_sessions, true);
  assert.equal(put.payload.entry.environment, 'live');
  assert.equal(get('keep_other_sessions').checked, true, 'the form reset the switch off after saving');

  get('keep_other_sessions').checked = false; // the trader wants Sidedesk to be the only session
  choose(get('environment'), 'simulator'); // other choices do not flip it back
  assert.equal(get('keep_other_sessions').checked, false);
  type(get('name'), 'sim');
  type(get('login'), 'demo');
  type(get('password'), 'demo-password');
  type(get('platform_key'), 'SIM-PLATFORM-KEY-0001');
  form.requestSubmit();
  await settle();
  put = client.sent.filter((r) => r.type === 'vault.put').at(-1);
  assert.equal(put.payload.entry.keep_other_sessions, false);
});

test('an older "demo" Volumetrica account is listed as Production', async () => {
  const old = { id: 'old1', name: 'old eval', broker: 'volumetrica', environment: 'demo', auth: null, masked: {},
    secrets_set: [] };
  const { root } = await volumetricaForm('vol-3', [old]);
  const tags = [...root.querySelectorAll('.vault-entry .vault-tag')].map((t) => t.textContent);
  assert.deepEqual(tags, ['volumetrica', 'Production']);
});
