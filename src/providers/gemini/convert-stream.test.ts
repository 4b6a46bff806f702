import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import type { EventOutcome } from '../event-stream.js';
import { geminiStreamHandler } from './convert-stream.js';
import { signatureOf } from './tool-call-id.js';

/** Feeds `data:` payloads to a fresh handler; returns the chunks and each event's outcome. */
function run(...events: unknown[]): { chunks: ChatCompletionChunk[]; outcomes: EventOutcome[] } {
  const handler = geminiStreamHandler('dep', 'configured');
  const chunks: ChatCompletionChunk[] = [];
  const outcomes = events.map((data) => handler({ event: undefined, id: undefined, data: typeof data === 'string' ? data : JSON.stringify(data) }, (c) => chunks.push(c)));
  return { chunks, outcomes };
}

const text = (t: string, extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: 'model', parts: [{ text: t }] }, index: 0, ...extra }],
  usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
  modelVersion: 'gemini-x',
  responseId: 'r1',
});

describe('geminiStreamHandler', () => {
  test('text: role on the first chunk, content deltas, the finish chunk, then a usage-only chunk and done', () => {
    const { chunks, outcomes } = run(text('Hello'), text(' world'), { ...text('!', { finishReason: 'STOP' }), usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 3, totalTokenCount: 8 } });
    assert.deepEqual(outcomes, ['more', 'more', 'done']);
    assert.deepEqual(chunks.map((c) => c.choices), [
      [{ index: 0, delta: { role: 'assistant', content: 'Hello' }, finish_reason: null, logprobs: null }],
      [{ index: 0, delta: { content: ' world' }, finish_reason: null, logprobs: null }],
      [{ index: 0, delta: { content: '!' }, finish_reason: null, logprobs: null }],
      [{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }],
      [],
    ]);
    assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
    assert.ok(chunks.every((c) => c.id === 'chatcmpl-r1' && c.model === 'gemini-x' && c.object === 'chat.completion.chunk'));
  });

  test('a function call arrives whole: one tool_calls delta with id, name and arguments; finish tool_calls', () => {
    const { chunks, outcomes } = run({
      candidates: [{ content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'SIG' }] }, finishReason: 'STOP' }],
      usageMetadata: { promptTokenCount: 9, candidatesTokenCount: 4 },
    });
    assert.deepEqual(outcomes, ['done']);
    const delta = chunks[0]!.choices[0]!.delta;
    assert.equal(delta.role, 'assistant');
    assert.equal(delta.content, null);
    const call = delta.tool_calls![0]!;
    assert.equal(call.index, 0);
    assert.equal(call.type, 'function');
    assert.deepEqual(call.function, { name: 'get_weather', arguments: '{"city":"Paris"}' });
    assert.equal(signatureOf(call.id), 'SIG');
    assert.equal(chunks[1]!.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(chunks[2]!.usage!.completion_tokens, 4);
  });

  test('several candidates: done only when each has finished', () => {
    const both = (a: Record<string, unknown>, b: Record<string, unknown>) => ({
      candidates: [{ content: { parts: [{ text: 'a' }] }, index: 0, ...a }, { content: { parts: [{ text: 'b' }] }, index: 1, ...b }],
    });
    const { outcomes, chunks } = run(both({}, {}), both({ finishReason: 'STOP' }, {}), both({}, { finishReason: 'MAX_TOKENS' }));
    assert.deepEqual(outcomes, ['more', 'more', 'done']);
    assert.deepEqual(chunks.filter((c) => c.choices[0]?.finish_reason).map((c) => [c.choices[0]!.index, c.choices[0]!.finish_reason]), [[0, 'stop'], [1, 'length']]);
  });

  test('an event without a finishReason never ends the stream', () => {
    assert.deepEqual(run(text('a'), { usageMetadata: { promptTokenCount: 1 } }).outcomes, ['more', 'more']);
  });

  test('an in-band error maps like the HTTP status it names; a blocked prompt is content_policy_violation', () => {
    assert.throws(() => run(text('a'), { error: { code: 500, message: 'An internal error has occurred.', status: 'INTERNAL' } }), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 502);
      assert.equal(error.retryable, true);
      assert.match(error.message, /internal error/);
      return true;
    });
    assert.throws(() => run({ error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '3s' }] } }), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterSeconds, 3);
      return true;
    });
    assert.throws(() => run({ promptFeedback: { blockReason: 'SAFETY' } }), (error: unknown) => error instanceof GatewayError && error.code === 'content_policy_violation');
  });

  test('an event that is not JSON, or not an object, is upstream_malformed', () => {
    for (const bad of ['{"candidates": [', '[1,2]', '"text"']) {
      assert.throws(() => run(bad), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_malformed' && /dep/.test(error.message));
    }
  });
});

test('n = 2: a candidate that finishes before the other has started does not end the stream', () => {
  const handler = geminiStreamHandler('dep', 'configured', 2);
  const feed = (data: unknown) => handler({ event: undefined, id: undefined, data: JSON.stringify(data) }, () => {});
  const candidate = (index: number, t: string, finish?: string) => ({
    candidates: [{ content: { role: 'model', parts: [{ text: t }] }, index, ...(finish ? { finishReason: finish } : {}) }],
    responseId: 'r2',
  });
  assert.equal(feed(candidate(0, 'first, done', 'STOP')), 'more', 'candidate 1 has not been seen yet');
  assert.equal(feed(candidate(1, 'second')), 'more');
  assert.equal(feed(candidate(1, ' done', 'STOP')), 'done');
});
