// Setup → Broker account → Test (accounts.test, issue #21): one button per account, the host's
// checks shown under the account with their status and sentence, kept across list re-renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { FakeClient, hostError, installDom, settle } from './dom_harness.mjs';

const dom = installDom();
const { mountAccounts } = await import('../../extension/sidepanel/accounts.js');

test.after(() => dom.close());

const ACCOUNTS = [
  { id: 'a1', name: 'Testnet', broker: 'binance', environment: 'testnet', key_hint: 'AKEY…WXYZ' },
  { id: 'a2', name: 'Paper', broker: 'alpaca', environment: 'demo', key_hint: null },
];

const CHECKS = {
  account_id: 'a1', name: 'Testnet', broker: 'binance', environment: 'testnet', status: 'fail',
  checks: [
    { name: 'reachability', label: 'Reachable', status: 'ok', detail: 'testnet.binancefuture.com and the trading socket answer' },
    { name: 'key', label: 'Key accepted', status: 'fail', detail: 'Binance refused the key (-2015): use a Demo Trading key' },
    { name: 'permissions', label: 'Permissions', status: 'skip', detail: 'not checked: the key was refused' },
    { name: 'ip_restriction', label: 'IP restriction', status: 'skip', detail: 'not checked: the key was refused' },
    { name: 'position_mode', label: 'Position mode', status: 'skip', detail: 'not checked: the key was refused' },
    { name: 'clock', label: 'Clock', status: 'warn', detail: "this computer's clock is 3.0 s behind Binance's: turn on automatic time" },
  ],
};

function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

function setup(testReply) {
  const client = new FakeClient({
    'accounts.list': () => ({
      accounts: ACCOUNTS.map((a) => ({ ...a, state: 'disconnected', detail: '', attempt: 0, next_retry_s: null, active: false })),
      active_id: null,
    }),
    'accounts.test': testReply,
  });
  const root = dom.section(`accounts-${Math.random().toString(36).slice(2)}`);
  mountAccounts(root, client);
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, brokers: [], uptime_s: 1 });
  return { client, root };
}

const row = (root, id) => root.querySelector(`li.acct[data-account-id="${id}"]`);
const testButton = (root, id) => row(root, id).querySelector('button[data-action="test"]');

test('each account has a Test button next to Use', async () => {
  const { root } = setup(() => CHECKS);
  await settle();
  for (const acc of ACCOUNTS) {
    const btn = testButton(root, acc.id);
    assert.ok(btn, `a Test button for ${acc.name}`);
    assert.equal(btn.textContent, 'Test');
    assert.equal(btn.getAttribute('aria-label'), `Test connection of ${acc.name}`);
    assert.equal(btn.parentElement.querySelectorAll('button').length, 2, 'Use and Test side by side');
  }
});

test('Test sends accounts.test for that account, says it is testing, then shows every check', async () => {
  const pending = deferred();
  const { client, root } = setup(() => pending.promise);
  await settle();
  testButton(root, 'a1').click();
  await settle();
  assert.deepEqual(client.sent.filter((r) => r.type === 'accounts.test'), [{ type: 'accounts.test', payload: { account_id: 'a1' } }]);
  assert.equal(testButton(root, 'a1').disabled, true, 'no second test while one runs');
  assert.equal(testButton(root, 'a1').textContent, 'Testing…');
  assert.match(row(root, 'a1').querySelector('.acct-test').textContent, /Testing the connection/);
  assert.equal(row(root, 'a2').querySelector('.acct-test'), null, 'the other account is untouched');

  pending.resolve(CHECKS);
  await settle();
  const box = row(root, 'a1').querySelector('.acct-test');
  assert.equal(box.dataset.status, 'fail');
  assert.equal(box.getAttribute('role'), 'status');
  assert.match(box.querySelector('.acct-test-summary').textContent, /Connection test failed/);
  const items = [...box.querySelectorAll('li.acct-check')];
  assert.deepEqual(items.map((li) => [li.dataset.check, li.dataset.status]), CHECKS.checks.map((c) => [c.name, c.status]));
  const key = box.querySelector('li[data-check="key"]');
  assert.match(key.textContent, /Key accepted/);
  assert.match(key.textContent, /fail: /, 'the status is spelled out for screen readers');
  assert.match(key.textContent, /use a Demo Trading key/, "the host's sentence is shown as is");
  assert.equal(testButton(root, 'a1').disabled, false);
  assert.equal(testButton(root, 'a1').textContent, 'Test');
});

test('the result stays when the list re-renders (a status push)', async () => {
  const { client, root } = setup(() => CHECKS);
  await settle();
  testButton(root, 'a1').click();
  await settle();
  client.push('status', { vault: 'unlocked', vault_rev: 1, settings_rev: 0, brokers: [], uptime_s: 2 });
  await settle();
  assert.equal(row(root, 'a1').querySelectorAll('li.acct-check').length, 6);
});

test("a refused test shows the host's message (vault locked)", async () => {
  const { root } = setup(() => { throw hostError('locked', 'unlock the vault first (vault is locked)'); });
  await settle();
  testButton(root, 'a2').click();
  await settle();
  const box = row(root, 'a2').querySelector('.acct-test');
  assert.equal(box.dataset.status, 'error');
  assert.match(box.textContent, /Test connection: .*unlock the vault first/);
});
