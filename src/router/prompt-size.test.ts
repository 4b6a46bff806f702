// The byte bound must never undercount, or a too-long prompt would be sent upstream to fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ChatMessage } from '../core/openai-types.js';
import { PromptSize } from './prompt-size.js';

const message = fc.record({
  role: fc.constantFrom('system', 'user', 'assistant' as const),
  content: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), fc.lorem({ maxCount: 60 })),
}) as fc.Arbitrary<ChatMessage>;

test('the byte bound is never below the exact o200k count', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (messages) => {
      const size = new PromptSize({ model: 'm', messages });
      const exact = await size.tokens();
      assert.ok(size.upperBound() >= exact, `bound ${size.upperBound()} < exact ${exact}`);
    }),
    { numRuns: 300 },
  );
});

test('fits() answers from the bound when it can and counts exactly near the limit', async () => {
  const text = 'hello world '.repeat(1000); // 12,000 bytes, about 2,000 tokens
  const size = new PromptSize({ model: 'm', messages: [{ role: 'user', content: text }] });
  assert.equal(await size.fits(100_000, 1000), true);
  assert.equal(await size.fits(4096, 1000), true, 'the exact count fits where the bound does not');
  assert.equal(await size.fits(2000, 500), false);
  const exact = await size.tokens();
  assert.ok(exact > 1900 && exact < 2100, `exact ${exact}`);
});
