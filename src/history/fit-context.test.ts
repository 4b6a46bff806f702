// The context-fitting policy: whole turns leave, oldest first; system messages and the newest
// turn stay; a tool call never loses its result; and the count matches the recipe's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatMessage } from '../core/openai-types.js';
import { PromptSize } from '../router/prompt-size.js';
import { fitToContext } from './fit-context.js';

const words = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

function conversation(turns: number): ChatMessage[] {
  const messages: ChatMessage[] = [{ role: 'system', content: 'You are terse.' }];
  for (let t = 0; t < turns; t++) {
    messages.push({ role: 'user', content: `question ${t}: ${words(100, 'q')}` });
    if (t % 3 === 1) {
      // A turn with a tool round trip: call and result must leave or stay together.
      messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${t}`, type: 'function', function: { name: 'look', arguments: '{"q":"x"}' } }] });
      messages.push({ role: 'tool', tool_call_id: `call_${t}`, content: words(50, 'r') });
    }
    messages.push({ role: 'assistant', content: `answer ${t}: ${words(100, 'a')}` });
  }
  return messages;
}

test('everything fits: nothing is dropped, and the count is the whole prompt\'s', async () => {
  const messages = conversation(3);
  const fitted = await fitToContext(messages, 100_000, 500);
  assert.equal(fitted.dropped, 0);
  assert.deepEqual(fitted.messages, messages);
  assert.equal(fitted.promptTokens, await new PromptSize({ model: 'm', messages }).tokens());
});

test('too long: the oldest turns leave whole; system and newest turn stay; tool calls keep their results', async () => {
  const messages = conversation(30);
  const full = await new PromptSize({ model: 'm', messages }).tokens();
  const window = Math.floor(full / 3);
  const fitted = await fitToContext(messages, window, 256);
  assert.ok(fitted.dropped > 0);
  assert.ok(fitted.promptTokens + 256 <= window, `${fitted.promptTokens} + 256 <= ${window}`);
  assert.equal(fitted.promptTokens, await new PromptSize({ model: 'm', messages: fitted.messages }).tokens(), 'the count is exact');
  assert.equal(fitted.messages[0]!.role, 'system');
  assert.equal(fitted.messages[1]!.role, 'user', 'the kept history starts at a turn boundary');
  assert.deepEqual(fitted.messages.slice(-2), messages.slice(-2), 'the newest turn is whole');
  assert.deepEqual(fitted.messages.slice(1), messages.slice(messages.length - fitted.messages.length + 1), 'only a prefix of turns left');
  const calls = new Set(fitted.messages.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []));
  const results = new Set(fitted.messages.flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : [])));
  assert.deepEqual([...calls].sort(), [...results].sort(), 'every kept call has its result and the other way round');
  // One turn fewer dropped would not have fit: the policy drops no more than it must.
  assert.ok(fitted.promptTokens + 256 > window - 400, 'close to the window, not far below it');
});

test('the newest turn alone does not fit: refused with context_length_exceeded and the numbers', async () => {
  const messages: ChatMessage[] = [{ role: 'system', content: 'x' }, { role: 'user', content: words(3000, 'w') }];
  await assert.rejects(fitToContext(messages, 1000, 100), (error: unknown) => {
    assert.equal((error as { code: string }).code, 'context_length_exceeded');
    assert.match((error as Error).message, /plus 100 reserved for output, against a window of 1000/);
    return true;
  });
});
