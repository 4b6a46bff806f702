import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode } from 'gpt-tokenizer';
import { answer, cutAtStop } from './engine.js';
import { findSimModel } from './models.js';
import { countPromptTokens, TOKENS_PER_IMAGE } from './prompt-tokens.js';
import { generateProse, vocabularySize } from './prose.js';
import { createRng } from './rng.js';
import type { SimRequest } from './sim-request.js';

const chatModel = findSimModel('sim-chat')!;

function request(overrides: Partial<SimRequest> = {}): SimRequest {
  return {
    model: chatModel,
    messages: [{ role: 'user', text: 'Tell me something.', images: 0 }],
    tools: [],
    toolChoice: 'auto',
    output: { type: 'text' },
    n: 1,
    stop: [],
    promptTokens: 10,
    ...overrides,
  };
}

test('the vocabulary keeps a useful number of single-token words', () => {
  assert.ok(vocabularySize() > 150, `only ${vocabularySize()} words survived the single-token filter`);
});

test('generated prose re-encodes to exactly one gpt-tokenizer token per piece', () => {
  for (let seed = 0; seed < 300; seed++) {
    const length = 1 + (seed % 120);
    const pieces = generateProse(createRng(seed), length);
    assert.equal(pieces.length, length);
    assert.equal(encode(pieces.join('')).length, length, `seed ${seed}: "${pieces.join('')}"`);
  }
});

test('a text answer reports completion_tokens equal to gpt-tokenizer over its text', () => {
  for (let seed = 0; seed < 50; seed++) {
    const result = answer(request({ seed }));
    const choice = result.choices[0]!;
    const text = choice.contentPieces!.join('');
    assert.equal(choice.completionTokens, encode(text).length);
    assert.equal(result.completionTokens, choice.completionTokens);
    assert.ok(choice.completionTokens >= 20 && choice.completionTokens <= 60);
    assert.equal(choice.finishReason, 'stop');
  }
});

test('the same seed and request give the same answer; another seed gives another', () => {
  const a = answer(request({ seed: 42 })).choices[0]!.contentPieces!.join('');
  const b = answer(request({ seed: 42 })).choices[0]!.contentPieces!.join('');
  const c = answer(request({ seed: 43 })).choices[0]!.contentPieces!.join('');
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('max tokens truncates with finish_reason length; x-sim-tokens sets the natural length', () => {
  const truncated = answer(request({ maxTokens: 5, answerTokens: 30 })).choices[0]!;
  assert.equal(truncated.completionTokens, 5);
  assert.equal(truncated.finishReason, 'length');
  const exact = answer(request({ answerTokens: 300 })).choices[0]!;
  assert.equal(exact.completionTokens, 300);
  assert.equal(exact.finishReason, 'stop');
});

test('a stop sequence cuts the text before it, also inside a token', () => {
  assert.deepEqual(cutAtStop([' one', ' two', ' three'], [' tw']), [' one']);
  assert.deepEqual(cutAtStop([' one', ' two', ' three'], ['wo th']), [' one', ' t']);
  assert.equal(cutAtStop([' one'], ['zzz']), undefined);
  const full = answer(request({ seed: 7, answerTokens: 40 })).choices[0]!.contentPieces!;
  const word = full[10]!;
  const cut = answer(request({ seed: 7, answerTokens: 40, stop: [word] })).choices[0]!;
  assert.equal(cut.finishReason, 'stop');
  assert.ok(!cut.contentPieces!.join('').includes(word));
  assert.ok(full.join('').startsWith(cut.contentPieces!.join('')));
});

test('n choices are distinct and usage sums them', () => {
  const result = answer(request({ seed: 1, n: 3 }));
  assert.equal(result.choices.length, 3);
  assert.deepEqual(result.choices.map((c) => c.index), [0, 1, 2]);
  assert.equal(new Set(result.choices.map((c) => c.contentPieces!.join(''))).size, 3);
  assert.equal(result.completionTokens, result.choices.reduce((sum, c) => sum + c.completionTokens, 0));
});

test('tools: a user turn gets a tool call, a tool result gets text, "none" never calls', () => {
  const tools = [{ name: 'lookup', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }];
  const call = answer(request({ tools, seed: 3 })).choices[0]!;
  assert.equal(call.finishReason, 'tool_calls');
  assert.equal(call.contentPieces, null);
  assert.match(call.toolCalls[0]!.id, /^call_[A-Za-z0-9]{24}$/);
  const args = JSON.parse(call.toolCalls[0]!.argumentPieces.join('')) as { q: unknown };
  assert.equal(typeof args.q, 'string');
  assert.equal(call.completionTokens, encode(call.toolCalls[0]!.argumentPieces.join('')).length);

  const afterTool = answer(request({ tools, messages: [{ role: 'user', text: 'q', images: 0 }, { role: 'tool', text: '{"ok":true}', images: 0 }] })).choices[0]!;
  assert.equal(afterTool.finishReason, 'stop');
  assert.equal(afterTool.toolCalls.length, 0);

  assert.equal(answer(request({ tools, toolChoice: 'none' })).choices[0]!.toolCalls.length, 0);
  const forced = answer(request({ tools, toolChoice: { name: 'lookup' }, messages: [{ role: 'tool', text: 'x', images: 0 }] })).choices[0]!;
  assert.equal(forced.toolCalls[0]!.name, 'lookup');
});

test('json_object and json_schema answers parse as JSON', () => {
  const object = JSON.parse(answer(request({ output: { type: 'json_object' } })).choices[0]!.contentPieces!.join('')) as Record<string, unknown>;
  assert.equal(typeof object.answer, 'string');
  const schema = { type: 'object', properties: { n: { type: 'integer', minimum: 5, maximum: 5 } }, required: ['n'] };
  const value = JSON.parse(answer(request({ output: { type: 'json_schema', schema } })).choices[0]!.contentPieces!.join('')) as { n: number };
  assert.equal(value.n, 5);
});

test('prompt tokens follow the documented recipe', () => {
  const messages = [
    { role: 'system' as const, text: 'You are terse.', images: 0 },
    { role: 'user' as const, text: 'Look at this', images: 2, name: 'ann' },
  ];
  const expected =
    3 + (3 + encode('system').length + encode('You are terse.').length) +
    (3 + encode('user').length + encode('Look at this').length + 2 * TOKENS_PER_IMAGE + encode('ann').length + 1) +
    encode('[tools]').length;
  assert.equal(countPromptTokens(messages, ['[tools]']), expected);
});
