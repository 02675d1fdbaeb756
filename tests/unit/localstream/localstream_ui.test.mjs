// The Setup section's pure helpers (the DOM part is exercised in the panel).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { ms, parseOrigins, pct, readSettings } from '../../../extension/sidepanel/localstream.js';

test('figures', () => {
  assert.equal(ms(null), '—');
  assert.equal(ms(1.234), '1.23 ms');
  assert.equal(ms(15.23), '15.2 ms');
  assert.equal(pct(0.0123), '1.2 %');
  assert.equal(pct(null), '—');
});

test('origins are split, trimmed and de-duplicated', () => {
  assert.deepEqual(parseOrigins(' http://localhost:3000\nhttp://localhost:3000, https://a.example \n'),
    ['http://localhost:3000', 'https://a.example']);
  assert.deepEqual(parseOrigins(''), []);
});

test('settings are checked before they are sent', () => {
  assert.deepEqual(readSettings({ enabled: true, port: '37651', batchMs: '1000', origins: '' }),
    { settings: { enabled: true, port: 37651, batch_ms: 1000, allowed_origins: [] } });
  assert.equal(readSettings({ enabled: true, port: '80', batchMs: '1000', origins: '' }).field, 'port');
  assert.equal(readSettings({ enabled: true, port: 'x', batchMs: '1000', origins: '' }).field, 'port');
  assert.equal(readSettings({ enabled: true, port: '0', batchMs: '1000', origins: '' }).settings.port, 0);
  assert.equal(readSettings({ enabled: false, port: '40000', batchMs: '10', origins: '' }).field, 'batch');
  assert.equal(readSettings({ enabled: false, port: '40000', batchMs: '1.5', origins: '' }).field, 'batch');
});
