// Anthropic event streams -> OpenAI chunks, fed the recorded documentation streams from
// test/fixtures/anthropic/ through the real SSE decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionChunk } from '../../core/openai-types.js';
import { SSEDecoder } from '../sse.js';
import { anthropicStreamHandler } from './convert-stream.js';

const fixture = (name: string) => readFileSync(new URL(`../../../test/fixtures/anthropic/${name}`, import.meta.url), 'utf8');

/** Runs a whole SSE body through the handler; returns the chunks and how it ended. */
function run(sse: string, jsonTool?: string): { chunks: ChatCompletionChunk[]; outcome: 'done' | 'unfinished' | GatewayError } {
  const handler = anthropicStreamHandler('dep-a', jsonTool);
  const chunks: ChatCompletionChunk[] = [];
  try {
    for (const event of new SSEDecoder().push(Buffer.from(sse))) {
      if (handler(event, (c) => chunks.push(c)) === 'done') return { chunks, outcome: 'done' };
    }
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return { chunks, outcome: error };
  }
  return { chunks, outcome: 'unfinished' };
}

test("the docs' basic text stream: role first, content deltas, finish, then a usage-only chunk", () => {
  const { chunks, outcome } = run(fixture('stream-text.sse'));
  assert.equal(outcome, 'done');
  assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello!');
  const finish = chunks.at(-2)!;
  assert.deepEqual(finish.choices, [{ index: 0, delta: {}, finish_reason: 'stop', logprobs: null }]);
  const usage = chunks.at(-1)!;
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40, prompt_tokens_details: { cached_tokens: 0 } });
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  assert.equal(chunks[0]!.id, 'chatcmpl-msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY');
  assert.equal(chunks[0]!.model, 'claude-sonnet-4-5-20250929');
});

test("the docs' tool-use stream: text, then one tool call (index, id, name, then argument fragments)", () => {
  const { chunks, outcome } = run(fixture('stream-tool-use.sse'));
  assert.equal(outcome, 'done');
  const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
  assert.equal(text, "Okay, let's check the weather for San Francisco, CA:");
  const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(deltas[0], { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } });
  assert.ok(deltas.slice(1).every((d) => d.index === 0 && d.id === undefined && (d.function?.arguments ?? '').length > 0), 'no empty fragments');
  assert.deepEqual(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), { location: 'San Francisco, CA', unit: 'fahrenheit' });
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(chunks.at(-1)!.usage!.completion_tokens, 89);
});

test('the forced JSON tool streams as content and finishes with stop', () => {
  const { chunks } = run(fixture('stream-tool-use.sse'), 'get_weather');
  assert.ok(chunks.every((c) => c.choices[0]?.delta.tool_calls === undefined));
  assert.match(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), /CA:\{"location": "San Francisco, CA", "unit": "fahrenheit"\}$/);
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
});

test("the docs' in-band error event fails the stream as a retryable overload", () => {
  const start = fixture('stream-text.sse').split('event: content_block_delta')[0]!;
  const { chunks, outcome } = run(start + fixture('error-event.sse'));
  assert.equal(chunks.length, 1, 'the role chunk went out first');
  assert.ok(outcome instanceof GatewayError);
  assert.equal(outcome.code, 'upstream_unavailable');
  assert.equal(outcome.status, 503);
  assert.equal(outcome.retryable, true);
});

test('a stream without message_stop is unfinished, so event-stream.ts fails it', () => {
  const text = fixture('stream-text.sse');
  const { outcome } = run(text.slice(0, text.indexOf('event: message_stop')));
  assert.equal(outcome, 'unfinished');
});

test('ping and unknown event types are ignored; content before message_start and bad JSON are malformed', () => {
  const start = 'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_x","model":"m","usage":{"input_tokens":1}}}\n\n';
  const extra = 'event: ping\ndata: {"type": "ping"}\n\nevent: brand_new\ndata: {"type":"brand_new","x":1}\n\n';
  const end = 'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"refusal"},"usage":{"output_tokens":2}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n';
  const { chunks, outcome } = run(start + extra + end);
  assert.equal(outcome, 'done');
  assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'content_filter');
  assert.deepEqual(chunks.at(-1)!.usage, { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, prompt_tokens_details: { cached_tokens: 0 } });
  for (const bad of ['event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n', 'event: message_start\ndata: {"type":\n\n']) {
    const result = run(bad);
    assert.ok(result.outcome instanceof GatewayError && result.outcome.code === 'upstream_malformed' && /dep-a/.test(result.outcome.message));
  }
  const orphan = run(start + 'event: content_block_delta\ndata: {"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}}\n\n');
  assert.ok(orphan.outcome instanceof GatewayError && orphan.outcome.code === 'upstream_malformed');
});

test('several tool_use blocks get OpenAI indexes 0, 1 in order; thinking blocks are skipped', () => {
  const events = [
    '{"type":"message_start","message":{"id":"msg_y","model":"m","usage":{"input_tokens":5,"output_tokens":1}}}',
    '{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"plan"}}',
    '{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_a","name":"f","input":{}}}',
    '{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{}"}}',
    '{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_b","name":"g","input":{}}}',
    '{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\\"a\\":1}"}}',
    '{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"input_tokens":5,"output_tokens":9}}',
    '{"type":"message_stop"}',
  ];
  const { chunks } = run(events.map((e) => `data: ${e}\n\n`).join(''));
  const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
  assert.deepEqual(deltas.map((d) => [d.index, d.id, d.function?.name, d.function?.arguments]), [
    [0, 'toolu_a', 'f', ''], [0, undefined, undefined, '{}'], [1, 'toolu_b', 'g', ''], [1, undefined, undefined, '{"a":1}'],
  ]);
  assert.ok(chunks.every((c) => !c.choices[0]?.delta.content), 'thinking never becomes content');
  assert.equal(chunks.at(-1)!.usage!.total_tokens, 14);
});

test('a tool called without arguments (only partial_json "") still streams arguments "{}"', () => {
  const events = [
    '{"type":"message_start","message":{"id":"msg_z","model":"m","usage":{"input_tokens":5,"output_tokens":1}}}',
    '{"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_n","name":"now","input":{}}}',
    '{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":""}}',
    '{"type":"content_block_stop","index":0}',
    '{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":3}}',
    '{"type":"message_stop"}',
  ];
  const { chunks } = run(events.map((e) => `data: ${e}\n\n`).join(''));
  const args = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []).map((d) => d.function?.arguments ?? '').join('');
  assert.equal(args, '{}');
  assert.deepEqual(JSON.parse(args), {});
});
