// responseEvents: the exact event sequence for text, refusals, parallel and interleaved tool calls,
// cut answers and broken upstreams. Every event is checked against OpenAI's schemas, and the
// final Response against what toResponse builds from the same content.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.js';
import type { ChatCompletion, ChatCompletionChunk, FinishReason, ToolCallDelta, Usage } from '../core/openai-types.js';
import { assertMatchesSchema } from '../../test/support/openapi.js';
import { parseCreateResponse } from './request.js';
import { toResponse, type ResponseMeta } from './response.js';
import { formatSseEvent, responseEvents } from './stream.js';
import type { OutputPart, ResponseObject, ResponseStreamEvent } from './types.js';

const SCHEMA_OF: Record<ResponseStreamEvent['type'], string> = {
  'response.created': 'ResponseCreatedEvent',
  'response.in_progress': 'ResponseInProgressEvent',
  'response.completed': 'ResponseCompletedEvent',
  'response.incomplete': 'ResponseIncompleteEvent',
  'response.failed': 'ResponseFailedEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent',
  'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent',
  'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent',
  'response.output_text.done': 'ResponseTextDoneEvent',
  'response.refusal.delta': 'ResponseRefusalDeltaEvent',
  'response.refusal.done': 'ResponseRefusalDoneEvent',
  'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
  'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
  error: 'ResponseErrorEvent',
};

function streamMeta(body: Record<string, unknown> = {}): ResponseMeta {
  const request = parseCreateResponse({ model: 'gpt-asked', input: 'Hi', stream: true, ...body });
  return { id: `resp_${'5e'.repeat(24)}`, createdAt: 1_750_000_000, model: 'gpt-answered', request, now: () => 1_750_000_002 };
}

type Delta = ChatCompletionChunk['choices'][number]['delta'];

function chunk(delta: Delta, finish: FinishReason | null = null, logprobs?: unknown): ChatCompletionChunk {
  return {
    id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'upstream',
    choices: [{ index: 0, delta, finish_reason: finish, ...(logprobs !== undefined ? { logprobs } : {}) }],
  };
}

function usageChunk(usage: Usage): ChatCompletionChunk {
  return { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'upstream', choices: [], usage };
}

const call = (index: number, fields: Omit<ToolCallDelta, 'index'>): Delta => ({ tool_calls: [{ index, ...fields }] });

async function* upstream(chunks: readonly ChatCompletionChunk[], failure?: unknown): AsyncGenerator<ChatCompletionChunk> {
  for (const c of chunks) yield c;
  if (failure !== undefined) throw failure;
}

async function collect(gen: AsyncGenerator<ResponseStreamEvent, ResponseObject>): Promise<{ events: ResponseStreamEvent[]; result: ResponseObject }> {
  const events: ResponseStreamEvent[] = [];
  for (;;) {
    const next = await gen.next();
    if (next.done) return { events, result: next.value };
    events.push(next.value);
  }
}

/** Each event matches its own schema and the ResponseStreamEvent union; numbers run 0, 1, 2, ... */
function checkEvents(events: readonly ResponseStreamEvent[]): void {
  events.forEach((event, i) => {
    assert.equal(event.sequence_number, i);
    assertMatchesSchema(SCHEMA_OF[event.type], event);
    assertMatchesSchema('ResponseStreamEvent', event);
  });
}

/** The completion a non-streaming call would have returned for the same chunks. */
function assembled(chunks: readonly ChatCompletionChunk[]): ChatCompletion {
  let content = '';
  let refusal = '';
  let finish: FinishReason | null = null;
  let usage: Usage | undefined;
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  for (const c of chunks) {
    if (c.usage) usage = c.usage;
    const choice = c.choices[0];
    if (!choice) continue;
    content += choice.delta.content ?? '';
    refusal += choice.delta.refusal ?? '';
    for (const d of choice.delta.tool_calls ?? []) {
      calls[d.index] ??= { id: d.id ?? '', type: 'function', function: { name: d.function?.name ?? '', arguments: '' } };
      calls[d.index]!.function.arguments += d.function?.arguments ?? '';
    }
    finish = choice.finish_reason ?? finish;
  }
  return {
    id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'upstream',
    choices: [{ index: 0, message: { role: 'assistant', content: content || null, refusal: refusal || null, ...(calls.length ? { tool_calls: calls } : {}) }, finish_reason: finish, logprobs: null }],
    ...(usage ? { usage } : {}),
  };
}

const USAGE: Usage = { prompt_tokens: 9, completion_tokens: 4, total_tokens: 13, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };


/** The content of the first output item, which must be a message. */
function contentOf(response: ResponseObject): OutputPart[] {
  const item = response.output[0];
  assert.ok(item?.type === 'message', `output[0] is ${item?.type}`);
  return item.content;
}

describe('responseEvents', () => {
  test('a text answer: the exact event sequence, and the final Response toResponse would build', async () => {
    const chunks = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Hel' }), chunk({ content: 'lo.' }), chunk({}, 'stop'), usageChunk(USAGE)];
    const meta = streamMeta();
    const { events, result } = await collect(responseEvents(upstream(chunks), meta));
    checkEvents(events);
    assert.deepEqual(events.map((e) => e.type), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const created = events[0] as Extract<ResponseStreamEvent, { type: 'response.created' }>;
    assert.equal(created.response.status, 'in_progress');
    assert.deepEqual(created.response.output, []);

    const expected = toResponse(assembled(chunks), meta);
    assert.deepEqual(result, expected);
    assert.deepEqual((events.at(-1) as { response: ResponseObject }).response, expected);
    assert.equal(result.usage?.total_tokens, 13);

    const itemId = expected.output[0]!.id;
    const added = events[2] as Extract<ResponseStreamEvent, { type: 'response.output_item.added' }>;
    assert.deepEqual(added.item, { type: 'message', id: itemId, status: 'in_progress', role: 'assistant', content: [] });
    assert.deepEqual(events[4], { type: 'response.output_text.delta', item_id: itemId, output_index: 0, content_index: 0, delta: 'Hel', logprobs: [], sequence_number: 4 });
    assert.deepEqual(events[6], { type: 'response.output_text.done', item_id: itemId, output_index: 0, content_index: 0, text: 'Hello.', logprobs: [], sequence_number: 6 });
    assert.deepEqual((events[8] as { item: unknown }).item, expected.output[0]);
  });

  test('parallel tool calls after text: message first, one function_call item per call, arguments streamed', async () => {
    const chunks = [
      chunk({ role: 'assistant', content: 'Checking ' }),
      chunk(call(0, { id: 'call_p', type: 'function', function: { name: 'weather', arguments: '' } })),
      chunk(call(0, { function: { arguments: '{"city":' } })),
      chunk({ content: 'both.' }),
      chunk(call(1, { id: 'call_r', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } })),
      chunk(call(0, { function: { arguments: '"Paris"}' } })),
      chunk({}, 'tool_calls'),
      usageChunk(USAGE),
    ];
    const meta = streamMeta({ tools: [{ type: 'function', name: 'weather' }] });
    const { events, result } = await collect(responseEvents(upstream(chunks), meta));
    checkEvents(events);
    const expected = toResponse(assembled(chunks), meta);
    assert.deepEqual(result, expected);
    assert.deepEqual(result.output.map((i) => [i.type, i.type === 'function_call' ? i.arguments : '']), [
      ['message', ''],
      ['function_call', '{"city":"Paris"}'],
      ['function_call', '{"city":"Rome"}'],
    ]);

    // Every event names the item at its output_index in the final output, by the final id.
    for (const event of events) {
      if ('output_index' in event) {
        const id = 'item' in event ? event.item.id : event.item_id;
        assert.equal(id, result.output[event.output_index]!.id, `${event.type} #${event.sequence_number}`);
      }
    }
    const addedCall = events.find((e) => e.type === 'response.output_item.added' && e.output_index === 1) as Extract<ResponseStreamEvent, { type: 'response.output_item.added' }>;
    assert.deepEqual(addedCall.item, { type: 'function_call', id: result.output[1]!.id, call_id: 'call_p', name: 'weather', arguments: '', status: 'in_progress' });
    const argDeltas = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => [e.output_index, e.delta]);
    assert.deepEqual(argDeltas, [[1, '{"city":'], [2, '{"city":"Rome"}'], [1, '"Paris"}']]);
    const argsDone = events.filter((e) => e.type === 'response.function_call_arguments.done');
    assert.deepEqual(argsDone.map((e) => [e.output_index, e.name, e.arguments]), [[1, 'weather', '{"city":"Paris"}'], [2, 'weather', '{"city":"Rome"}']]);
    // Items close in output order, after every delta, then the response completes.
    const tail = events.slice(events.findIndex((e) => e.type.endsWith('.done'))).map((e) => e.type);
    assert.deepEqual(tail, [
      'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.function_call_arguments.done', 'response.output_item.done',
      'response.completed',
    ]);
  });

  test('a tool call before any text: the call keeps output_index 0 and the final output follows the stream', async () => {
    const chunks = [
      chunk(call(0, { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } })),
      chunk({ content: 'Done.' }),
      chunk({}, 'tool_calls'),
    ];
    const meta = streamMeta({ tools: [{ type: 'function', name: 'f' }] });
    const { events, result } = await collect(responseEvents(upstream(chunks), meta));
    checkEvents(events);
    assert.deepEqual(result.output.map((i) => i.type), ['function_call', 'message']);
    const added = events.filter((e) => e.type === 'response.output_item.added').map((e) => [e.output_index, e.item.type]);
    assert.deepEqual(added, [[0, 'function_call'], [1, 'message']]);
    assert.equal('usage' in result, false);
  });

  test('a refusal streams as refusal deltas in a refusal part', async () => {
    const chunks = [chunk({ role: 'assistant', refusal: "I can't" }), chunk({ refusal: ' help.' }), chunk({}, 'stop')];
    const meta = streamMeta();
    const { events, result } = await collect(responseEvents(upstream(chunks), meta));
    checkEvents(events);
    assert.deepEqual(events.map((e) => e.type).slice(2), [
      'response.output_item.added', 'response.content_part.added', 'response.refusal.delta', 'response.refusal.delta',
      'response.refusal.done', 'response.content_part.done', 'response.output_item.done', 'response.completed',
    ]);
    assert.deepEqual(result, toResponse(assembled(chunks), meta));
    const part = events.find((e) => e.type === 'response.content_part.added') as Extract<ResponseStreamEvent, { type: 'response.content_part.added' }>;
    assert.deepEqual(part.part, { type: 'refusal', refusal: '' });
  });

  test('cut by length: items close incomplete and the stream ends with response.incomplete', async () => {
    const chunks = [chunk({ content: 'Once upon' }), chunk({}, 'length'), usageChunk(USAGE)];
    const meta = streamMeta({ max_output_tokens: 16 });
    const { events, result } = await collect(responseEvents(upstream(chunks), meta));
    checkEvents(events);
    assert.equal(events.at(-1)!.type, 'response.incomplete');
    assert.equal(result.status, 'incomplete');
    assert.deepEqual(result.incomplete_details, { reason: 'max_output_tokens' });
    const done = events.find((e) => e.type === 'response.output_item.done') as Extract<ResponseStreamEvent, { type: 'response.output_item.done' }>;
    assert.equal(done.item.status, 'incomplete');
    assert.deepEqual(result, toResponse(assembled(chunks), meta));
  });

  test('content_filter also ends incomplete', async () => {
    const { events, result } = await collect(responseEvents(upstream([chunk({ content: 'Hm' }), chunk({}, 'content_filter')]), streamMeta()));
    checkEvents(events);
    assert.equal(events.at(-1)!.type, 'response.incomplete');
    assert.deepEqual(result.incomplete_details, { reason: 'content_filter' });
  });

  test('log probabilities ride on the text deltas and the final part', async () => {
    const lp = (token: string) => ({ content: [{ token, logprob: -0.5, bytes: [...Buffer.from(token)], top_logprobs: [{ token, logprob: -0.5, bytes: [...Buffer.from(token)] }] }] });
    const meta = streamMeta({ include: ['message.output_text.logprobs'] });
    const { events, result } = await collect(responseEvents(upstream([chunk({ content: 'A' }, null, lp('A')), chunk({ content: 'B' }, null, lp('B')), chunk({}, 'stop')]), meta));
    checkEvents(events);
    const delta = events.find((e) => e.type === 'response.output_text.delta') as Extract<ResponseStreamEvent, { type: 'response.output_text.delta' }>;
    assert.deepEqual(delta.logprobs, [{ token: 'A', logprob: -0.5, top_logprobs: [{ token: 'A', logprob: -0.5 }] }]);
    const part = contentOf(result)[0];
    assert.deepEqual(part?.type === 'output_text' && part.logprobs.map((l) => l.token), ['A', 'B']);
  });

  test('an upstream that breaks part-way: response.failed, then an error event; nothing closed as completed', async () => {
    const broken = new GatewayError('The upstream connection closed before the answer was complete.', { status: 502, type: 'upstream_error', code: 'upstream_stream_broken' });
    const chunks = [chunk({ content: 'Half an ans' }), chunk(call(0, { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }))];
    const meta = streamMeta({ tools: [{ type: 'function', name: 'f' }] });
    const { events, result } = await collect(responseEvents(upstream(chunks, broken), meta));
    checkEvents(events);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(-2), ['response.failed', 'error']);
    for (const never of ['response.completed', 'response.incomplete', 'response.output_item.done', 'response.output_text.done', 'response.content_part.done', 'response.function_call_arguments.done']) {
      assert.equal(types.includes(never as ResponseStreamEvent['type']), false, never);
    }
    const failed = events.at(-2) as Extract<ResponseStreamEvent, { type: 'response.failed' }>;
    assert.deepEqual(failed.response, result);
    assert.equal(result.status, 'failed');
    assert.deepEqual(result.error, { code: 'server_error', message: broken.message });
    assert.deepEqual(result.output.map((i) => [i.type, i.status]), [['message', 'incomplete'], ['function_call', 'incomplete']]);
    assert.equal(result.completed_at, null);
    assert.deepEqual(events.at(-1), {
      type: 'error',
      code: 'upstream_stream_broken',
      message: broken.message,
      param: null,
      error: { message: broken.message, type: 'upstream_error', param: null, code: 'upstream_stream_broken' },
      sequence_number: events.length - 1,
    });
  });

  test('a failure before any chunk still opens the response, then fails it', async () => {
    const limited = new GatewayError('Rate limited upstream.', { status: 429, type: 'rate_limit_error', code: 'rate_limited' });
    const { events, result } = await collect(responseEvents(upstream([], limited), streamMeta()));
    checkEvents(events);
    assert.deepEqual(events.map((e) => e.type), ['response.created', 'response.in_progress', 'response.failed', 'error']);
    assert.deepEqual(result.error, { code: 'rate_limit_exceeded', message: 'Rate limited upstream.' });
    assert.deepEqual(result.output, []);
  });

  test('a failure that is not a GatewayError does not leak its message', async () => {
    const { events, result } = await collect(responseEvents(upstream([chunk({ content: 'x' })], new Error('secret internals at 10.0.0.7')), streamMeta()));
    checkEvents(events);
    assert.equal(result.error?.code, 'server_error');
    assert.doesNotMatch(JSON.stringify(events), /secret internals/);
  });

  test('stopping early stops reading the upstream', async () => {
    let released = false;
    async function* endless(): AsyncGenerator<ChatCompletionChunk> {
      try {
        for (;;) yield chunk({ content: 'more ' });
      } finally {
        released = true;
      }
    }
    const gen = responseEvents(endless(), streamMeta());
    for (let i = 0; i < 6; i++) await gen.next();
    await gen.return(undefined as never);
    assert.equal(released, true);
  });

  test('only the first choice is the answer', async () => {
    const two: ChatCompletionChunk = { ...chunk({ content: 'zero' }), choices: [{ index: 1, delta: { content: 'one' }, finish_reason: null }, { index: 0, delta: { content: 'zero' }, finish_reason: null }] };
    const { result } = await collect(responseEvents(upstream([two, chunk({}, 'stop')]), streamMeta()));
    assert.deepEqual(contentOf(result).map((p) => p.type === 'output_text' && p.text), ['zero']);
  });
});

describe('formatSseEvent', () => {
  test('a named event with one JSON data line and a blank line; no [DONE] anywhere', async () => {
    const { events } = await collect(responseEvents(upstream([chunk({ content: 'line one\nline two' }), chunk({}, 'stop')]), streamMeta()));
    const text = events.map(formatSseEvent).join('');
    assert.doesNotMatch(text, /\[DONE\]/);
    const blocks = text.split('\n\n').slice(0, -1);
    assert.equal(blocks.length, events.length);
    blocks.forEach((block, i) => {
      const [eventLine, dataLine, ...rest] = block.split('\n');
      assert.equal(rest.length, 0);
      assert.equal(eventLine, `event: ${events[i]!.type}`);
      assert.deepEqual(JSON.parse(dataLine!.slice('data: '.length)), events[i]);
    });
  });
});
