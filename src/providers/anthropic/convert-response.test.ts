// Anthropic -> OpenAI: messages, stop reasons, usage and in-band errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import { toChatCompletion, toFinishReason, toUsage } from './convert-response.js';
import { fromStreamError } from './errors.js';

test('a text message becomes a completion with content, finish reason and usage', () => {
  // The Messages API reference's own example response.
  const completion = toChatCompletion(
    {
      content: [{ text: 'Hi! My name is Claude.', type: 'text' }],
      id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
      model: 'claude-3-5-sonnet-20240620',
      role: 'assistant',
      stop_reason: 'end_turn',
      stop_sequence: null,
      type: 'message',
      usage: { input_tokens: 2095, output_tokens: 503 },
    },
    'dep',
  );
  assert.equal(completion.id, 'chatcmpl-msg_013Zva2CMHLNnXjNJJKqJ2EF');
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.model, 'claude-3-5-sonnet-20240620');
  assert.deepEqual(completion.choices[0]!.message, { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null });
  assert.equal(completion.choices[0]!.finish_reason, 'stop');
  assert.deepEqual(completion.usage, { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598, prompt_tokens_details: { cached_tokens: 0 } });
});

test('tool_use blocks become tool_calls with JSON arguments; text beside them is kept; thinking is skipped', () => {
  const completion = toChatCompletion(
    {
      id: 'msg_1',
      type: 'message',
      role: 'assistant',
      model: 'm',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'x' },
        { type: 'text', text: "I'll check the weather." },
        { type: 'tool_use', id: 'toolu_01A', name: 'get_weather', input: { location: 'San Francisco, CA', unit: 'celsius' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 10, output_tokens: 5 },
    },
    'dep',
  );
  const message = completion.choices[0]!.message;
  assert.equal(message.content, "I'll check the weather.");
  assert.deepEqual(message.tool_calls, [
    { id: 'toolu_01A', type: 'function', function: { name: 'get_weather', arguments: '{"location":"San Francisco, CA","unit":"celsius"}' } },
  ]);
  assert.equal(completion.choices[0]!.finish_reason, 'tool_calls');
});

test('the forced JSON tool comes back as content with finish_reason stop', () => {
  const completion = toChatCompletion(
    { id: 'msg_2', type: 'message', role: 'assistant', model: 'm', content: [{ type: 'tool_use', id: 't', name: 'verdict', input: { answer: 'yes' } }], stop_reason: 'tool_use', stop_sequence: null, usage: {} },
    'dep',
    'verdict',
  );
  assert.equal(completion.choices[0]!.message.content, '{"answer":"yes"}');
  assert.equal(completion.choices[0]!.message.tool_calls, undefined);
  assert.equal(completion.choices[0]!.finish_reason, 'stop');
});

test('stop reasons map to OpenAI finish reasons', () => {
  const cases: Array<[string | null, string]> = [
    ['end_turn', 'stop'], ['stop_sequence', 'stop'], ['pause_turn', 'stop'], [null, 'stop'],
    ['max_tokens', 'length'], ['model_context_window_exceeded', 'length'],
    ['tool_use', 'tool_calls'], ['refusal', 'content_filter'],
  ];
  for (const [stop, finish] of cases) assert.equal(toFinishReason(stop, false), finish, String(stop));
  assert.equal(toFinishReason('tool_use', true), 'stop');
});

test('usage counts cache writes and reads as prompt tokens, reads as cached', () => {
  assert.deepEqual(toUsage({ input_tokens: 20, cache_creation_input_tokens: 300, cache_read_input_tokens: 4000, output_tokens: 7 }), {
    prompt_tokens: 4320, completion_tokens: 7, total_tokens: 4327, prompt_tokens_details: { cached_tokens: 4000 },
  });
  assert.deepEqual(toUsage({ output_tokens: null }), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } });
});

test('a body that is not a message is upstream_malformed naming the deployment', () => {
  for (const body of [null, 'text', { id: 'x' }, { id: 'x', content: [null] }]) {
    assert.throws(() => toChatCompletion(body, 'dep-a'), (e: unknown) => e instanceof GatewayError && e.code === 'upstream_malformed' && /dep-a/.test(e.message));
  }
});

test('in-band error types map like their HTTP statuses: overloaded is a retryable 503, the message scrubbed', () => {
  const overloaded = fromStreamError('dep', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  assert.equal(overloaded.status, 503);
  assert.equal(overloaded.code, 'upstream_unavailable');
  assert.equal(overloaded.retryable, true);
  assert.match(overloaded.message, /Overloaded/);
  const limited = fromStreamError('dep', { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } });
  assert.equal(limited.status, 429);
  const bad = fromStreamError('dep', { type: 'error', error: { type: 'invalid_request_error', message: 'see https://internal.example/x with key sk-ant-abcdefghijkl' } });
  assert.equal(bad.status, 400);
  assert.equal(bad.message, 'see [url] with key [redacted]');
  const unknown = fromStreamError('dep', { type: 'error', error: { type: 'brand_new_error', message: 'eh' } });
  assert.equal(unknown.status, 502);
  assert.equal(unknown.retryable, true);
});
