// Setup views under a small DOM (happy-dom): forms keep what the user chose, and every view
// follows the host's events (issue #22).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeClient, choose, hostError, installDom, settle, type } from './dom_harness.mjs';

const dom = installDom();
const { mountVault } = await import('../../extension/sidepanel/vault.js');
const { mountAccounts } = await import('../../extension/sidepanel/accounts.js');
const { mountRisk } = await import('../../extension/sidepanel/risk.js');

test.after(() => dom.close());

function vaultHost({ state = 'unlocked', entries = [] } = {}) {
  const host = { state, entries, rev: 0, unattended: false };
  const status = () => ({
    state: host.state, path: '/x/vault.sdv', autolock_s: 900, entries: host.state === 'unlocked' ? host.entries.length : null,
    kdf: null, backup: false, retry_after_s: 0, unattended: host.unattended, unattended_error: host.unattendedError ?? null,
  });
  const client = new FakeClient({
    'vault.status': status,
    'vault.entries': () => ({ entries: host.entries }),
    'vault.put': ({ entry }) => {
      const summary = { id: `id${host.entries.length + 1}`, name: entry.name, broker: entry.broker, environment: entry.environment,
        auth: entry.auth ?? null, masked: {}, secrets_set: [] };
      host.entries.push(summary);
      host.rev += 1;
      return { entry: summary };
    },
    'vault.unattended': ({ enabled }) => { host.unattended = enabled; host.rev += 1; return { ...status(), warning: null }; },
    'vault.lock': () => { host.state = 'locked'; host.rev += 1; return status(); },
    'vault.unlock': ({ password }) => {
      if (password !== 'right-password-123') throw hostError('auth', 'wrong password; try again in 2 s', { retry_after_s: 0 });
      host.state = 'unlocked';
      host.rev += 1;
      return status();
    },
    'accounts.list': () => ({
      accounts: host.entries.map((e) => ({ id: e.id, name: e.name, broker: e.broker, environment: e.environment, key_hint: null,
        state: 'disconnected', detail: '', attempt: 0, next_retry_s: null, active: false })),
      active_id: null,
    }),
  });
  client.statusPush = () => client.push('status', { vault: host.state, vault_rev: host.rev, settings_rev: 0, brokers: [], uptime_s: 1 });
  return { host, client };
}

function addForm(root) {
  const form = root.querySelector('.vault-add form');
  const get = (name) => form.querySelector(`[name="${name}"]`);
  return { form, get };
}

test('choosing the key type keeps the environment (and what was typed)', async () => {
  const root = dom.section('vault-1');
  const { client } = vaultHost();
  mountVault(root, client);
  await settle();
  const { form, get } = addForm(root);
  choose(get('broker'), 'binance');
  choose(get('environment'), 'live');
  type(get('api_key'), 'KEY-typed-before-the-key-type');
  choose(get('auth'), 'ed25519');
  assert.equal(get('environment').value, 'live', 'the key type reset the environment');
  assert.equal(get('api_key').value, 'KEY-typed-before-the-key-type');
  assert.ok(get('private_key_pem'), 'the Ed25519 field replaced the HMAC secret');
  assert.equal(get('secret'), null);
  type(get('name'), 'Ed key');
  type(get('private_key_pem'), '-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----');
  form.requestSubmit();
  await settle();
  const put = client.sent.find((r) => r.type === 'vault.put');
  assert.equal(put.payload.entry.environment, 'live');
  assert.equal(put.payload.entry.auth, 'ed25519');
});

test('a broker change keeps the environment when the new broker has it; Tradovate asks for the app id', async () => {
  const root = dom.section('vault-2');
  const { client } = vaultHost();
  mountVault(root, client);
  await settle();
  const { get } = addForm(root);
  choose(get('environment'), 'live');
  choose(get('broker'), 'tradovate');
  assert.equal(get('environment').value, 'live');
  assert.equal(get('app_id').value, 'Sidedesk');
  choose(get('environment'), 'demo');
  choose(get('broker'), 'binance');
  assert.equal(get('environment').value, 'demo');
});

test('typed values survive the re-renders that host pushes cause', async () => {
  const root = dom.section('vault-3');
  const { host, client } = vaultHost();
  mountVault(root, client);
  await settle();
  let { get } = addForm(root);
  type(get('name'), 'kept');
  choose(get('environment'), 'live');
  host.rev += 1; // something changed in the vault elsewhere: the section reloads and re-renders
  client.statusPush();
  client.setStatus({ state: 'connected' }); // the worker re-announced the link: another reload
  await settle();
  ({ get } = addForm(root));
  assert.equal(get('name').value, 'kept');
  assert.equal(get('environment').value, 'live');
});

test('"Vault locked." does not stay under a wrong-password alert', async () => {
  const root = dom.section('vault-4');
  const { client } = vaultHost();
  mountVault(root, client);
  await settle();
  [...root.querySelectorAll('button')].find((b) => b.textContent === 'Lock now').click();
  await settle();
  const live = root.querySelector('.vault-live');
  assert.equal(live.textContent, 'Vault locked.');
  const form = root.querySelector('form');
  type(form.querySelector('[name="password"]'), 'wrong-password-1');
  form.requestSubmit();
  await settle();
  assert.match(root.querySelector('[role="alert"]').textContent, /wrong password/);
  assert.equal(live.textContent, '');
});

test('the account list follows the vault: a saved account shows without a reload', async () => {
  const root = dom.section('accounts-1');
  const { host, client } = vaultHost();
  mountAccounts(root, client);
  client.statusPush(); // the first status: remembered, nothing to reload yet
  await settle();
  await settle();
  const list = () => root.querySelector('#accounts-list').textContent;
  assert.match(list(), /No broker accounts in the vault yet/);
  host.entries.push({ id: 'a1', name: 'Main', broker: 'binance', environment: 'testnet', auth: 'hmac', masked: {}, secrets_set: [] });
  host.rev += 1;
  client.statusPush(); // what the host publishes after vault.put
  await settle();
  assert.match(list(), /Main/);
  assert.match(list(), /binance · testnet/);
  assert.equal(root.querySelector('#accounts-reload'), null, 'no Reload button needed');
});

test('risk limits reload when the saved settings change elsewhere, but not over unsaved edits', async () => {
  const root = dom.section('risk-1');
  let limits = { max_order_notional: null, max_position_notional: null, max_orders_per_minute: 60, confirm_above_notional: '5000' };
  const client = new FakeClient({ 'risk.get': () => ({ limits }) });
  mountRisk(root, client);
  client.push('status', { vault: 'unlocked', settings_rev: 1 });
  await settle();
  const input = root.querySelector('[name="confirm_above_notional"]');
  assert.equal(input.value, '5000');
  limits = { ...limits, confirm_above_notional: '7000' };
  client.push('status', { vault: 'unlocked', settings_rev: 2 });
  await settle();
  assert.equal(input.value, '7000');
  type(input, '9000'); // the trader is editing: a change elsewhere must not wipe it
  limits = { ...limits, confirm_above_notional: '1000' };
  client.push('status', { vault: 'unlocked', settings_rev: 3 });
  await settle();
  assert.equal(input.value, '9000');
});

test('unattended unlock: off by default, its trade-off beside the switch, on and off through the host', async () => {
  const root = dom.section('vault-unattended');
  const { host, client } = vaultHost();
  mountVault(root, client);
  await settle();
  const box = () => root.querySelector('input[name="unattended"]');
  assert.equal(box().checked, false);
  const label = root.querySelector(`label[for="${box().id}"]`).textContent;
  assert.match(label, /Unlock without a password after a restart \(unattended unlock\)/);
  const hint = root.querySelector(`#${box().getAttribute('aria-describedby')}`).textContent;
  assert.match(hint, /anyone who can run programs as you/);
  assert.match(hint, /unlocked by your OS login/);
  box().checked = true;
  box().dispatchEvent(new Event('change'));
  await settle();
  assert.deepEqual(client.sent.filter((r) => r.type === 'vault.unattended').map((r) => r.payload), [{ enabled: true }]);
  assert.equal(host.unattended, true);
  assert.equal(box().checked, true);
  box().checked = false;
  box().dispatchEvent(new Event('change'));
  await settle();
  assert.equal(host.unattended, false);
  assert.equal(box().checked, false);
  // locked after a failed unattended unlock: the reason, and what fixes it, with no switch to flip
  host.state = 'locked';
  host.unattended = true;
  host.unattendedError = 'the key is missing from the OS keychain';
  host.rev += 1;
  client.statusPush();
  await settle();
  assert.equal(box(), null);
  assert.match(root.querySelector('.vault-unattended-error').textContent, /missing from the OS keychain.*Unlock to resume protection/);
  assert.ok(!root.textContent.includes('null'));
});

test('the keep-protecting switch saves at once and follows a change made in another panel', async () => {
  const { mountService } = await import('../../extension/sidepanel/service.js');
  const root = dom.section('service-1');
  let info = { enabled: true, keep_protecting: true, always: false, idle_exit_s: 60, pid: 7 };
  const sets = [];
  const client = new FakeClient({
    'service.get': () => info,
    'service.set': (changes) => { sets.push(changes); info = { ...info, ...changes }; return info; },
  });
  mountService(root, client);
  client.push('status', { vault: 'locked', settings_rev: 1 });
  await settle();
  const keep = root.querySelector('#service-keep');
  assert.equal(keep.checked, true, 'on by default');
  assert.match(root.querySelector('#service-hint').textContent, /with every browser closed/);
  keep.checked = false;
  keep.dispatchEvent(new dom.window.Event('change'));
  await settle();
  assert.deepEqual(sets, [{ keep_protecting: false }]);
  assert.match(root.querySelector('#service-hint').textContent, /exits after 60 s/);
  assert.equal(root.querySelector('#service-result').textContent, 'Saved.');
  info = { ...info, keep_protecting: true, always: true }; // another panel changed both
  client.push('status', { vault: 'locked', settings_rev: 2 });
  await settle();
  assert.equal(keep.checked, true);
  assert.equal(root.querySelector('#service-always').checked, true);
});
