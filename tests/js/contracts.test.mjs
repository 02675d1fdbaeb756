import test from 'node:test';
import assert from 'node:assert/strict';
import { formatContracts, parseContracts } from '../../extension/sidepanel/contracts_form.js';

test('pins parse one per line, with comments and blank lines', () => {
  const { map, errors } = parseContracts('# front months\n/ESZ26:XCME = 4242\n\nMESZ26=77  # micro\n');
  assert.deepEqual(errors, []);
  assert.deepEqual(map, { '/ESZ26:XCME': 4242, MESZ26: 77 });
});

test('bad lines are named and never half-applied', () => {
  const { map, errors } = parseContracts('ES = abc\nES = 0\nES Z6 = 4\n<script> = 5\nNQ = 9\nNQ = 10');
  assert.deepEqual(map, { NQ: 9 });
  assert.equal(errors.length, 5);
  assert.match(errors[0], /^line 1: write SYMBOL = id/);
  assert.match(errors[1], /^line 2: the contract id must be a positive whole number/);
  assert.match(errors[3], /^line 4: .* is not a symbol/);
  assert.match(errors[4], /^line 6: NQ is pinned twice/);
});

test('formatting sorts and round-trips', () => {
  const map = { MNQZ26: 3, '/ESZ26:XCME': 1 };
  assert.equal(formatContracts(map), '/ESZ26:XCME = 1\nMNQZ26 = 3');
  assert.deepEqual(parseContracts(formatContracts(map)).map, map);
  assert.equal(formatContracts(undefined), '');
});
