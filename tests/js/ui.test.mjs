import { test } from 'node:test';
import assert from 'node:assert/strict';

import { commandRequest, describeOutcome } from '../../extension/lib/commands.js';
import { formatBytes, formatDuration, formatLatency, formatStatus, shortcutRows } from '../../extension/sidepanel/format.js';

test('commands become host requests of type "command"', () => {
  assert.deepEqual(commandRequest('flatten'), { type: 'command', payload: { name: 'flatten' } });
});

test('an unknown_type answer is shown as an error, naming the command and the host message', () => {
  const v = describeOutcome('buy', { error: { code: 'unknown_type', message: "unknown message type 'command'" } });
  assert.equal(v.level, 'error');
  assert.equal(v.badge, '!');
  assert.match(v.title, /Buy failed \[unknown_type\]/);
  assert.match(v.message, /does not support keyboard commands yet/);
  assert.match(v.message, /unknown message type 'command'/);
});

test('other errors are shown verbatim; disconnected/timeout say the command was not sent', () => {
  const rejected = describeOutcome('sell', { error: { code: 'rejected', message: 'Margin is insufficient.' } });
  assert.equal(rejected.message, 'Margin is insufficient.');
  assert.match(rejected.title, /Sell failed \[rejected\]/);
  const down = describeOutcome('cancel_all', { error: { code: 'disconnected', message: 'host not connected' } });
  assert.match(down.message, /^Not sent: host not connected/);
  assert.match(down.title, /Cancel all/);
});

test('success clears the badge and uses the host summary when there is one', () => {
  assert.deepEqual(describeOutcome('flatten', { ok: { message: 'closed 2 positions' } }),
    { level: 'info', title: 'Sidedesk — Flatten', message: 'closed 2 positions', badge: '' });
  assert.equal(describeOutcome('weird_name', { ok: null }).message, 'done');
  assert.match(describeOutcome('weird_name', { ok: null }).title, /weird_name/);
});

test('status labels for the status bar', () => {
  assert.equal(formatStatus({ state: 'connected', hostVersion: '0.1.0', pid: 7 }).detail, 'Connected to host 0.1.0 (pid 7)');
  assert.equal(formatStatus({ state: 'connected', hostVersion: '0.1.0' }).label, 'Connected');
  const r = formatStatus({ state: 'reconnecting', attempt: 3, nextRetryMs: 2000, message: 'Native host has exited.' });
  assert.equal(r.label, 'Reconnecting (attempt 3)');
  assert.equal(r.detail, 'Reconnecting (attempt 3) in 2.0 s — Native host has exited.');
  assert.equal(formatStatus({ state: 'install', reason: 'not_found', message: 'x' }).label, 'Host not installed');
  assert.equal(formatStatus({ state: 'install', reason: 'forbidden', message: 'x' }).label, 'Host not allowed');
  assert.equal(formatStatus({ state: 'error', message: 'boom' }).detail, 'Host error — boom');
  assert.equal(formatStatus({ state: 'connecting' }).label, 'Connecting…');
});

test('number formatting', () => {
  assert.equal(formatLatency(0.25), '250 µs');
  assert.equal(formatLatency(3.14159), '3.1 ms');
  assert.equal(formatLatency(250.4), '250 ms');
  assert.equal(formatLatency(null), '—');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(2048), '2.0 KiB');
  assert.equal(formatBytes(3 * 1024 * 1024), '3.0 MiB');
  assert.equal(formatDuration(5.7), '5 s');
  assert.equal(formatDuration(125), '2 min 5 s');
  assert.equal(formatDuration(7260), '2 h 1 min');
});

test('shortcut rows: the panel toggle first, then manifest order; empty shortcuts stay empty', () => {
  const commands = [
    { name: 'buy', description: 'Buy', shortcut: 'Alt+Shift+B' },
    { name: '_execute_action', description: '', shortcut: 'Alt+Shift+D' },
    { name: 'cancel_all', description: 'Cancel all open orders', shortcut: '' },
    { name: 'sell', description: 'Sell', shortcut: 'Alt+Shift+S' },
  ];
  const rows = shortcutRows(commands, ['_execute_action', 'sell', 'buy', 'cancel_all']);
  assert.deepEqual(rows.map((r) => r.name), ['_execute_action', 'sell', 'buy', 'cancel_all']);
  assert.equal(rows[0].description, 'Open the Sidedesk panel');
  assert.equal(rows[3].shortcut, '');
  const unordered = shortcutRows(commands);
  assert.deepEqual(unordered.map((r) => r.name), ['_execute_action', 'buy', 'cancel_all', 'sell'], 'stable otherwise');
});

test('hotkey answers in a trader\'s words when the host sends the data', () => {
  const placed = { status: 'placed', order_status: 'NEW', quantity: '0.004', filled: '0', order_id: '9' };
  const buy = describeOutcome('buy', { ok: { name: 'buy', summary: 'BUY 0.004 BTCUSDT market: new', result: placed } },
    { ticket: { symbol: 'BTCUSDT', type: 'MARKET' } });
  assert.equal(buy.message, 'Buy 0.004 BTCUSDT at market sent — waiting for the fill');
  const flat = describeOutcome('flatten', { ok: { name: 'flatten', summary: 'flattened: 2 orders cancelled, 1 positions closed',
    result: { cancelled: 2, closed: 1, errors: [] } } });
  assert.equal(flat.message, 'Flattened: 2 orders cancelled, 1 position closed');
  assert.equal(describeOutcome('cancel_all', { ok: { summary: '0 orders cancelled', result: { cancelled: 0 } } }).message,
    'No open order to cancel');
});
