import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import { finishReasonOf, toChatCompletion, usageOf } from './convert-response.js';
import { signatureOf } from './tool-call-id.js';

describe('toChatCompletion', () => {
  test('text parts are joined (thought summaries left out); usage and ids carried over', () => {
    const completion = toChatCompletion(
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'thinking...', thought: true }, { text: 'Hello' }, { text: ', world' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 8, candidatesTokenCount: 3, thoughtsTokenCount: 5, totalTokenCount: 16 },
        modelVersion: 'gemini-2.5-flash',
        responseId: 'abc123',
      },
      'dep',
      'configured-model',
    );
    assert.equal(completion.id, 'chatcmpl-abc123');
    assert.equal(completion.model, 'gemini-2.5-flash');
    assert.deepEqual(completion.choices, [{ index: 0, message: { role: 'assistant', content: 'Hello, world', refusal: null }, finish_reason: 'stop', logprobs: null }]);
    assert.deepEqual(completion.usage, {
      prompt_tokens: 8, completion_tokens: 8, total_tokens: 16,
      prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 5 },
    });
  });

  test('functionCall parts become tool calls with call_ ids (the signature rides in the first); finish tool_calls', () => {
    const completion = toChatCompletion(
      {
        candidates: [{
          content: {
            role: 'model',
            parts: [
              { functionCall: { name: 'a', args: { x: 1 } }, thoughtSignature: 'SIG' },
              { functionCall: { name: 'b' } },
            ],
          },
          finishReason: 'STOP',
        }],
      },
      'dep',
      'm',
    );
    const message = completion.choices[0]!.message;
    assert.equal(message.content, null);
    assert.equal(completion.choices[0]!.finish_reason, 'tool_calls');
    const [a, b] = message.tool_calls!;
    assert.ok(a?.type === 'function' && b?.type === 'function');
    assert.deepEqual(a.function, { name: 'a', arguments: '{"x":1}' });
    assert.deepEqual(b.function, { name: 'b', arguments: '{}' });
    assert.match(a.id, /^call_/);
    assert.equal(signatureOf(a.id), 'SIG');
    assert.equal(signatureOf(b.id), undefined);
    assert.equal(completion.model, 'm');
    assert.deepEqual(completion.usage, { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } });
  });

  test('several candidates keep their index order', () => {
    const completion = toChatCompletion(
      { candidates: [{ index: 1, content: { parts: [{ text: 'b' }] }, finishReason: 'STOP' }, { index: 0, content: { parts: [{ text: 'a' }] }, finishReason: 'MAX_TOKENS' }] },
      'dep',
      'm',
    );
    assert.deepEqual(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason]), [[0, 'a', 'length'], [1, 'b', 'stop']]);
  });

  test('a blocked prompt is a 400 content_policy_violation; no candidates at all is malformed', () => {
    assert.throws(() => toChatCompletion({ promptFeedback: { blockReason: 'PROHIBITED_CONTENT' } }, 'dep', 'm'), (error: unknown) => {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 400);
      assert.equal(error.code, 'content_policy_violation');
      assert.match(error.message, /PROHIBITED_CONTENT/);
      return true;
    });
    assert.throws(() => toChatCompletion({ candidates: [] }, 'dep', 'm'), (error: unknown) => error instanceof GatewayError && error.code === 'upstream_malformed');
  });
});

test('finish reasons: length, the filter family, and STOP after a function call', () => {
  assert.equal(finishReasonOf('STOP', false), 'stop');
  assert.equal(finishReasonOf('STOP', true), 'tool_calls');
  assert.equal(finishReasonOf('MAX_TOKENS', true), 'length');
  for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']) assert.equal(finishReasonOf(reason, false), 'content_filter');
  assert.equal(finishReasonOf('MALFORMED_FUNCTION_CALL', false), 'stop');
  assert.equal(finishReasonOf('SOMETHING_NEW', false), 'stop');
});

test('usage: cached prompt tokens are reported as cached_tokens', () => {
  assert.equal((usageOf({ promptTokenCount: 100, cachedContentTokenCount: 60 }).prompt_tokens_details as { cached_tokens: number }).cached_tokens, 60);
});

describe('answers Gemini should not have given', () => {
  test('a null candidate or an unusable function call is upstream_malformed (retryable), not a 500 or an empty stop', () => {
    for (const response of [
      { candidates: [null] },
      { candidates: [{ content: { role: 'model', parts: [] }, finishReason: 'MALFORMED_FUNCTION_CALL', index: 0 }] },
    ]) {
      assert.throws(() => toChatCompletion(response as never, 'dep', 'm'), (error: unknown) => {
        assert.ok(error instanceof GatewayError);
        assert.equal(error.code, 'upstream_malformed');
        assert.equal(error.retryable, true);
        return true;
      });
    }
  });
});
