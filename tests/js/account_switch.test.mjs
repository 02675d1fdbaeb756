// The Trade tab header's account switcher (issue #21): a login with several accounts (Tradovate,
// Volumetrica) lists them; picking one sends accounts.activate ENTRY:ACCOUNT and the panel follows
// the host's new active account. A single-account login shows no switcher.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeClient, choose, hostError, installDom, settle, type } from './dom_harness.mjs';
import { accountChoices, listedAccounts } from '../../extension/sidepanel/trade_view.js';

const dom = installDom();
const { mountTradeStatus } = await import('../../extension/sidepanel/tradestatus.js');

test.after(() => dom.close());

const E = 'e1';
const row = (venue, name, extra = {}) => ({
  id: `${E}:${venue}`, name: 'Prop login', broker: 'tradovate', environment: 'demo', key_hint: 'trad…',
  state: 'live', detail: '', attempt: 1, next_retry_s: null, active: false, entry_id: E,
  venue_account: venue, account_name: name, remembered: false, ...extra,
});
const broker = (venue, name, extra = {}) => ({
  account_id: `${E}:${venue}`, broker: 'tradovate', entry_id: E, venue_account: venue, account_name: name,
  active: false, state: 'live', attempt: 1, detail: '', next_retry_s: null, ...extra,
});
const BINANCE = {
  id: 'b1', name: 'Testnet', broker: 'binance', environment: 'testnet', key_hint: 'AKEY…', state: 'live',
  active: false, entry_id: 'b1', venue_account: null, account_name: 'USDⓈ-M futures', remembered: false,
};

// -- the pure view ---------------------------------------------------------------------------------
test('the switcher lists every account of the active login, the active one selected', () => {
  const accounts = [row('1', 'Evaluation 50K — APEX-1234'), row('2', 'Funded — APEX-5678'), BINANCE];
  const view = accountChoices(accounts, [], `${E}:1`);
  assert.equal(view.show, true);
  assert.deepEqual(view.options.map((o) => [o.id, o.label, o.active]), [
    [`${E}:1`, 'Evaluation 50K — APEX-1234', true],
    [`${E}:2`, 'Funded — APEX-5678', false],
  ], 'the other broker entry is not an account of this login');
});

test('accounts of the login that connected since the list was loaded come from the status topic', () => {
  const view = accountChoices([row('1', 'DEMO1')], [broker('1', 'DEMO1', { active: true }), broker('2', 'DEMO2', { state: 'connecting' })], `${E}:1`);
  assert.deepEqual(view.options.map((o) => o.label), ['DEMO1', 'DEMO2 (connecting)']);
});

test('each account of the login says how many positions it holds', () => {
  const view = accountChoices([], [broker('1', 'DEMO1', { active: true }), broker('2', 'DEMO2', { open_positions: 1 }), broker('3', 'DEMO3', { open_positions: 2 })], `${E}:1`);
  assert.deepEqual(view.options.map((o) => o.label), ['DEMO1', 'DEMO2 · 1 position', 'DEMO3 · 2 positions']);
});

test('no switcher for a login with one account, or with no active account', () => {
  assert.equal(accountChoices([BINANCE], [], 'b1').show, false);
  assert.equal(accountChoices([row('1', 'DEMO1')], [], `${E}:1`).show, false);
  assert.equal(accountChoices([row('1', 'DEMO1'), row('2', 'DEMO2')], [], null).show, false);
  assert.deepEqual(accountChoices(undefined, undefined, 'x'), { show: false, options: [] });
});

// A login saved before accounts could be picked is listed by its entry alone until it connects; its
// first activation connects the venue's default account as ENTRY:ACCOUNT. The status topic shows that
// account before accounts.list is loaded again: the login must not show twice meanwhile.
const ENTRY_ALONE = { ...row('1', ''), id: E, venue_account: null, account_name: '', state: 'disconnected' };

test('the entry-alone row gives way to the account its login connects (no second row for it)', () => {
  const rows = listedAccounts([BINANCE, ENTRY_ALONE], [broker('1', '', { state: 'connecting' })]);
  assert.deepEqual(rows.map((r) => r.id), ['b1', `${E}:1`]);
  assert.equal(rows[1].name, 'Prop login');
  assert.equal(rows[1].venue_account, '1');
  // a single-account login is listed by its entry id and stays listed while it connects
  const binance = { account_id: 'b1', broker: 'binance', entry_id: 'b1', account_name: 'USDⓈ-M futures', state: 'connecting' };
  assert.deepEqual(listedAccounts([BINANCE, ENTRY_ALONE], [binance]).map((r) => r.id), ['b1', E]);
  assert.deepEqual(listedAccounts([ENTRY_ALONE], []).map((r) => r.id), [E], 'not connected yet: the entry');
});

test("a login's accounts that connect later are listed with it, after its listed ones", () => {
  const other = { ...row('9', 'Other'), id: 'e2:9', entry_id: 'e2', name: 'Other login' };
  const rows = listedAccounts([row('1', 'DEMO1', { active: true }), other], [broker('1', 'DEMO1', { active: true }), broker('2', 'DEMO2')]);
  assert.deepEqual(rows.map((r) => r.id), [`${E}:1`, `${E}:2`, 'e2:9']);
});

test('no switcher while the first activation of an entry-alone login resolves to one account', () => {
  const view = accountChoices([ENTRY_ALONE], [broker('1', 'DEMO1', { active: true, state: 'connecting' })], `${E}:1`);
  assert.deepEqual(view, { show: false, options: [{ id: `${E}:1`, label: 'DEMO1 (connecting)', active: true, state: 'connecting' }] });
});

// -- the header ------------------------------------------------------------------------------------
function setup({ activate } = {}) {
  let active = `${E}:1`;
  const client = new FakeClient({
    'accounts.list': () => ({
      accounts: [row('1', 'Evaluation — APEX-1', { active: active === `${E}:1` }), row('2', 'Funded — APEX-2', { active: active === `${E}:2` })],
      active_id: active,
    }),
    'accounts.activate': (p) => {
      if (activate) return activate(p);
      active = p.account_id;
      return row(p.account_id.split(':')[1], 'x', { active: true });
    },
    'market.symbols': () => ({ symbols: [] }),
  });
  const root = dom.section(`trade-status-${Math.random().toString(36).slice(2)}`);
  mountTradeStatus(root, client);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, brokers: [], uptime_s: 1 });
  return { client, root, select: () => root.querySelector('#trade-account-switch') };
}

test('the header switches accounts: accounts.activate with the picked account, then the new active one', async () => {
  const { client, root, select } = setup();
  await settle();
  const sel = select();
  assert.equal(sel.hidden, false);
  assert.deepEqual([...sel.options].map((o) => o.textContent), ['Evaluation — APEX-1', 'Funded — APEX-2']);
  assert.equal(sel.value, `${E}:1`);
  assert.match(root.querySelector('.live-account').textContent, /Prop login · Evaluation — APEX-1/);
  sel.value = `${E}:2`;
  sel.dispatchEvent(new window.Event('change'));
  await settle();
  assert.deepEqual(client.sent.filter((r) => r.type === 'accounts.activate').map((r) => r.payload), [{ account_id: `${E}:2` }]);
  assert.equal(select().value, `${E}:2`, 'the host said the second account is active now');
  assert.match(root.querySelector('.live-account').textContent, /Funded — APEX-2/);
  assert.equal(root.querySelector('#trade-account-result').hidden, true);
});

test("a refused switch says why and keeps the account that is active", async () => {
  const { root, select } = setup({ activate: () => { throw hostError('auth', 'the broker refused this account'); } });
  await settle();
  const sel = select();
  sel.value = `${E}:2`;
  sel.dispatchEvent(new window.Event('change'));
  await settle();
  const result = root.querySelector('#trade-account-result');
  assert.equal(result.hidden, false);
  assert.equal(result.dataset.tone, 'error');
  assert.match(result.textContent, /Switching to Funded — APEX-2: .*refused/);
  assert.equal(select().value, `${E}:1`);
  assert.equal(select().disabled, false);
});

// -- Setup -----------------------------------------------------------------------------------------
test('Setup lists each account of a login with its name; Use picks that account', async () => {
  const { mountAccounts } = await import('../../extension/sidepanel/accounts.js');
  const client = new FakeClient({
    'accounts.list': () => ({ accounts: [row('1', 'Evaluation — APEX-1', { active: true, remembered: true })], active_id: `${E}:1` }),
    'accounts.activate': (p) => row(p.account_id.split(':')[1], 'x', { active: true }),
    'market.symbols': () => ({ symbols: [] }),
  });
  const root = dom.section('setup-accounts-switch');
  mountAccounts(root, client);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, uptime_s: 1, brokers: [
    broker('1', 'Evaluation — APEX-1', { active: true }), broker('2', 'Funded — APEX-2'),
  ] });
  await settle();
  const rows = [...root.querySelectorAll('li.acct')];
  assert.deepEqual(rows.map((r) => r.dataset.accountId), [`${E}:1`, `${E}:2`], 'the connected sibling has its row');
  assert.match(rows[1].querySelector('.acct-name').textContent, /Prop login · Funded — APEX-2/);
  rows[1].querySelector('button.primary').click();
  await settle();
  assert.deepEqual(client.sent.filter((r) => r.type === 'accounts.activate').map((r) => r.payload), [{ account_id: `${E}:2` }]);
});

test("Setup shows the venue's account name learnt after the list was loaded", async () => {
  const { mountAccounts } = await import('../../extension/sidepanel/accounts.js');
  const client = new FakeClient({
    'accounts.list': () => ({ accounts: [row('1', 'DEMO1', { active: true }), row('2', '2')], active_id: `${E}:1` }),
    'market.symbols': () => ({ symbols: [] }),
  });
  const root = dom.section('setup-accounts-names');
  mountAccounts(root, client);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, uptime_s: 1, brokers: [broker('1', 'DEMO1', { active: true }), broker('2', '2', { state: 'connecting' })] });
  await settle();
  const second = () => root.querySelector(`li.acct[data-account-id="${E}:2"] .acct-name`).textContent;
  assert.match(second(), /· 2$/);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, uptime_s: 2, brokers: [broker('1', 'DEMO1', { active: true }), broker('2', 'Funded — DEMO2')] });
  await settle();
  assert.match(second(), /· Funded — DEMO2/);
});

test('Setup: while an entry-alone login first connects, one row for it, then its account', async () => {
  const { mountAccounts } = await import('../../extension/sidepanel/accounts.js');
  const client = new FakeClient({
    'accounts.list': () => ({ accounts: [ENTRY_ALONE], active_id: null }),
    'market.symbols': () => ({ symbols: [] }),
  });
  const root = dom.section('setup-accounts-entry-alone');
  mountAccounts(root, client);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, uptime_s: 1, brokers: [] });
  await settle();
  const rows = () => [...root.querySelectorAll('li.acct')].map((r) => [r.dataset.accountId, r.dataset.state]);
  assert.deepEqual(rows(), [[E, 'disconnected']]);
  // the activation connected the default account; accounts.list has not been loaded again yet
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, uptime_s: 2, brokers: [broker('1', '1', { state: 'connecting' })] });
  await settle();
  assert.deepEqual(rows(), [[`${E}:1`, 'connecting']], 'the login is listed once');
  assert.match(root.querySelector('li.acct .acct-name').textContent, /^Prop login · 1/);
});

// -- the vault form: the account can be named when the entry is added ---------------------------------
test('the Tradovate form takes an optional account; empty sends none (the login’s first)', async () => {
  const { mountVault } = await import('../../extension/sidepanel/vault.js');
  const client = new FakeClient({
    'vault.status': () => ({ state: 'unlocked', path: '/x/vault.sdv', autolock_s: 900, entries: 0, kdf: null, backup: false, retry_after_s: 0 }),
    'vault.entries': () => ({ entries: [] }),
    'vault.put': ({ entry }) => ({ entry: { id: 'n1', name: entry.name, broker: entry.broker, environment: entry.environment, masked: {}, secrets_set: [] } }),
  });
  const root = dom.section('vault-account-field');
  mountVault(root, client);
  await settle();
  const form = root.querySelector('.vault-add form');
  const get = (name) => form.querySelector(`[name="${name}"]`);
  choose(get('broker'), 'tradovate');
  assert.equal(get('account').required, false);
  const fill = (name) => {
    type(get('name'), name);
    type(get('username'), 'trader');
    type(get('password'), 'pw-123456');
    type(get('cid'), '8');
    type(get('sec'), 'secret-0001');
  };
  fill('first');
  form.requestSubmit();
  await settle();
  assert.equal('account' in client.sent.filter((r) => r.type === 'vault.put').at(-1).payload.entry, false);
  fill('second');
  type(get('account'), 'APEX-1234-01');
  form.requestSubmit();
  await settle();
  assert.equal(client.sent.filter((r) => r.type === 'vault.put').at(-1).payload.entry.account, 'APEX-1234-01');
  choose(get('broker'), 'volumetrica');
  assert.ok(get('account'), 'Volumetrica asks for the account number too');
  choose(get('broker'), 'binance');
  assert.equal(get('account'), null, 'a Binance key has one account: nothing to pick');
});
