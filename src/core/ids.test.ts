import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prefixedId, randomHex } from './ids.js';

test('ids are prefixed, 48 hex characters, and never repeat across pool refills', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 5_000; i++) {
    const id = prefixedId('msg');
    assert.match(id, /^msg_[0-9a-f]{48}$/);
    seen.add(id);
  }
  assert.equal(seen.size, 5_000);
  assert.match(randomHex(3), /^[0-9a-f]{6}$/);
  assert.throws(() => randomHex(10_000), RangeError);
});
