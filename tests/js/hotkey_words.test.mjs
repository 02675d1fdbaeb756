// A hotkey's notice names the account's currency from the host's answer: a Tradovate fill is in
// USD, not USDT (the worker has no symbol rules of its own).
import { test } from 'node:test';
import assert from 'node:assert/strict';

const { describeOutcome } = await import('../../extension/lib/commands.js');

test('a futures fill from the hotkey is worded in the currency the host answered', () => {
  const ok = { name: 'buy', summary: 'x', result: { status: 'placed', order_status: 'FILLED', filled: '1',
    avg_price: '6000.25', quantity: '1', currency: 'USD', client_id: 'sdh-1', order_id: '9' } };  // prettier-ignore
  const out = describeOutcome('buy', { ok }, { ticket: { symbol: 'MESZ6', type: 'MARKET' } });
  assert.match(out.message, /6,000\.25 USD\b/);
  assert.doesNotMatch(out.message, /USDT/);
});
