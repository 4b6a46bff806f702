// toResponse, failedResponse and inProgressResponse: every object they build is checked against
// OpenAI's Response schema, and the fields are checked one by one.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.js';
import type { ChatCompletion, ChatCompletionChoice, FinishReason, Usage } from '../core/openai-types.js';
import { assertMatchesSchema } from '../../test/support/openapi.js';
import { parseCreateResponse } from './request.js';
import { failedResponse, inProgressResponse, toResponse, type ResponseMeta } from './response.js';
import type { OutputPart, ResponseObject } from './types.js';

const RESPONSE_ID = `resp_${'ab'.repeat(24)}`;

function meta(body: Record<string, unknown> = {}): ResponseMeta {
  return { id: RESPONSE_ID, createdAt: 1_750_000_000, model: 'gpt-answered', request: parseCreateResponse({ model: 'gpt-asked', input: 'Hi', ...body }), now: () => 1_750_000_003 };
}

function completion(message: Partial<ChatCompletionChoice['message']>, finish: FinishReason = 'stop', usage?: Usage, logprobs: unknown = null): ChatCompletion {
  return {
    id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'upstream-model',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish, logprobs }],
    ...(usage ? { usage } : {}),
  };
}

const USAGE: Usage = {
  prompt_tokens: 120, completion_tokens: 30, total_tokens: 150,
  prompt_tokens_details: { cached_tokens: 100 }, completion_tokens_details: { reasoning_tokens: 12 },
};


/** The content of the first output item, which must be a message. */
function contentOf(response: ResponseObject): OutputPart[] {
  const item = response.output[0];
  assert.ok(item?.type === 'message', `output[0] is ${item?.type}`);
  return item.content;
}

describe('toResponse', () => {
  test('a text answer: one completed message with an output_text part', () => {
    const response = toResponse(completion({ content: 'Hello there.' }, 'stop', USAGE), meta());
    assertMatchesSchema('Response', response);
    assert.equal(response.id, RESPONSE_ID);
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.created_at, 1_750_000_000);
    assert.equal(response.completed_at, 1_750_000_003);
    assert.equal(response.model, 'gpt-answered');
    assert.equal(response.error, null);
    assert.equal(response.incomplete_details, null);
    assert.equal(response.output.length, 1);
    const [message] = response.output;
    assert.ok(message?.type === 'message');
    assert.match(message.id, /^msg_[0-9a-f]{48}$/);
    assert.deepEqual(message, {
      type: 'message', id: message.id, status: 'completed', role: 'assistant',
      content: [{ type: 'output_text', text: 'Hello there.', annotations: [], logprobs: [] }],
    });
    assert.deepEqual(response.usage, {
      input_tokens: 120,
      input_tokens_details: { cached_tokens: 100, cache_write_tokens: 0 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 12 },
      total_tokens: 150,
    });
    // output_text is the SDKs' own convenience (x-oaiSupportedSDKs); the wire object has none.
    assert.equal('output_text' in response, false);
  });

  test('the defaults a bare request is shown with', () => {
    const response = toResponse(completion({ content: 'x' }), meta());
    assertMatchesSchema('Response', response);
    assert.deepEqual(
      { ...response, output: [], completed_at: 0 },
      {
        id: RESPONSE_ID, object: 'response', created_at: 1_750_000_000, status: 'completed', background: false, completed_at: 0,
        error: null, incomplete_details: null, instructions: null, max_output_tokens: null, max_tool_calls: null, model: 'gpt-answered',
        output: [], parallel_tool_calls: true, previous_response_id: null, conversation: null, prompt_cache_key: null,
        reasoning: { effort: null, summary: null }, safety_identifier: null, service_tier: 'default', store: true, temperature: 1,
        text: { format: { type: 'text' }, verbosity: 'medium' }, tool_choice: 'auto', tools: [], top_logprobs: 0, top_p: 1,
        truncation: 'disabled', metadata: {},
      },
    );
    assert.equal('usage' in response, false, 'no usage reported, none shown (the schema allows no null)');
  });

  test('the request is echoed: instructions, tools, tool_choice, sampling, text, state', () => {
    const response = toResponse(
      completion({ content: '{}' }),
      meta({
        instructions: 'Be terse.',
        tools: [{ type: 'function', name: 'f', description: 'F', parameters: { type: 'object' }, strict: true }, { type: 'function', name: 'g' }],
        tool_choice: 'required',
        parallel_tool_calls: false,
        temperature: 0.3,
        top_p: 0.5,
        text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true }, verbosity: 'high' },
        truncation: 'auto',
        max_output_tokens: 64,
        metadata: { k: 'v' },
        store: false,
        user: 'user-7',
        safety_identifier: 'sid',
        prompt_cache_key: 'pck',
        previous_response_id: 'resp_prev',
        reasoning: { effort: 'high', summary: 'concise' },
        top_logprobs: 2,
      }),
    );
    assertMatchesSchema('Response', response);
    assert.equal(response.instructions, 'Be terse.');
    assert.deepEqual(response.tools, [
      { type: 'function', name: 'f', description: 'F', parameters: { type: 'object' }, strict: true },
      { type: 'function', name: 'g', parameters: null, strict: null },
    ]);
    assert.equal(response.tool_choice, 'required');
    assert.equal(response.parallel_tool_calls, false);
    assert.equal(response.temperature, 0.3);
    assert.equal(response.top_p, 0.5);
    assert.deepEqual(response.text, { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true }, verbosity: 'high' });
    assert.equal(response.truncation, 'auto');
    assert.equal(response.max_output_tokens, 64);
    assert.deepEqual(response.metadata, { k: 'v' });
    assert.equal(response.store, false);
    assert.equal(response.user, 'user-7');
    assert.equal(response.safety_identifier, 'sid');
    assert.equal(response.prompt_cache_key, 'pck');
    assert.equal(response.previous_response_id, 'resp_prev');
    assert.deepEqual(response.reasoning, { effort: 'high', summary: 'concise' });
    assert.equal(response.top_logprobs, 2);
    assert.deepEqual(toResponse(completion({ content: 'x' }), meta({ conversation: { id: 'conv_9' } })).conversation, { id: 'conv_9' });
  });

  test('tool calls: each a completed function_call item after the message, in order', () => {
    const response = toResponse(
      completion(
        {
          content: 'Checking.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'time', arguments: '{}' } },
          ],
        },
        'tool_calls',
        USAGE,
      ),
      meta({ tools: [{ type: 'function', name: 'weather' }, { type: 'function', name: 'time' }] }),
    );
    assertMatchesSchema('Response', response);
    assert.equal(response.status, 'completed');
    assert.deepEqual(response.output.map((i) => i.type), ['message', 'function_call', 'function_call']);
    const [, first, second] = response.output;
    assert.match(first!.id, /^fc_[0-9a-f]{48}$/);
    assert.notEqual(first!.id, second!.id);
    assert.deepEqual(first, { type: 'function_call', id: first!.id, call_id: 'call_1', name: 'weather', arguments: '{"city":"Paris"}', status: 'completed' });
    assert.deepEqual(second, { type: 'function_call', id: second!.id, call_id: 'call_2', name: 'time', arguments: '{}', status: 'completed' });
  });

  test('a refusal is a refusal part', () => {
    const response = toResponse(completion({ content: null, refusal: "I can't help with that." }), meta());
    assertMatchesSchema('Response', response);
    assert.deepEqual(contentOf(response), [{ type: 'refusal', refusal: "I can't help with that." }]);
  });

  test('cut by length: incomplete, reason max_output_tokens, the item incomplete too', () => {
    const response = toResponse(completion({ content: 'Once upon a' }, 'length', USAGE), meta({ max_output_tokens: 16 }));
    assertMatchesSchema('Response', response);
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(response.output[0]!.status, 'incomplete');
  });

  test('stopped by a content filter: incomplete, reason content_filter', () => {
    const response = toResponse(completion({ content: '' }, 'content_filter'), meta());
    assertMatchesSchema('Response', response);
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'content_filter' });
    assert.deepEqual(response.output, []);
  });

  test('usage without details reads as zero details', () => {
    const response = toResponse(completion({ content: 'x' }, 'stop', { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }), meta());
    assertMatchesSchema('Response', response);
    assert.deepEqual(response.usage, {
      input_tokens: 5, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
      output_tokens: 2, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 7,
    });
  });

  test('log probabilities from chat are the output_text logprobs', () => {
    const logprobs = { content: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105], top_logprobs: [{ token: 'Hi', logprob: -0.1, bytes: [72, 105] }] }] };
    const response = toResponse(completion({ content: 'Hi' }, 'stop', undefined, logprobs), meta({ include: ['message.output_text.logprobs'] }));
    assertMatchesSchema('Response', response);
    const part = contentOf(response)[0];
    assert.deepEqual(part?.type === 'output_text' && part.logprobs, logprobs.content);
  });

  test('item ids follow from the response id: the same answer twice, the same ids; another response, others', () => {
    const answer = completion({ content: 'x', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{}' } }] }, 'tool_calls');
    const ids = (m: ResponseMeta) => {
      const response = toResponse(answer, m);
      assertMatchesSchema('Response', response);
      return response.output.map((i) => i.id);
    };
    assert.deepEqual(ids(meta()), ids(meta()));
    const other = ids({ ...meta(), id: `resp_${'cd'.repeat(24)}` });
    assert.equal(other.some((id) => ids(meta()).includes(id)), false);
  });

  test('an empty completion is a completed response without output', () => {
    const response = toResponse({ id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [] }, meta());
    assertMatchesSchema('Response', response);
    assert.deepEqual(response.output, []);
    assert.equal(response.status, 'completed');
  });
});

describe('failedResponse and inProgressResponse', () => {
  test('in progress: no output, no completion time, no usage', () => {
    const response = inProgressResponse(meta({ instructions: 'I' }));
    assertMatchesSchema('Response', response);
    assert.equal(response.status, 'in_progress');
    assert.deepEqual(response.output, []);
    assert.equal(response.completed_at, null);
    assert.equal(response.instructions, 'I');
    assert.equal('usage' in response, false);
  });

  test('failed: status failed, error with a code the spec allows and the gateway message', () => {
    const broken = new GatewayError('The upstream stream ended unexpectedly.', { status: 502, type: 'upstream_error', code: 'upstream_stream_broken' });
    const response = failedResponse(meta(), broken);
    assertMatchesSchema('Response', response);
    assert.equal(response.status, 'failed');
    assert.deepEqual(response.error, { code: 'server_error', message: 'The upstream stream ended unexpectedly.' });
    assert.equal(response.completed_at, null);
    const limited = new GatewayError('Slow down.', { status: 429, type: 'rate_limit_error', code: 'rate_limited' });
    assert.deepEqual(failedResponse(meta(), limited).error, { code: 'rate_limit_exceeded', message: 'Slow down.' });
  });

  test('failed with partial output: the items are there, marked incomplete', () => {
    const broken = new GatewayError('cut', { status: 502, type: 'upstream_error', code: 'x' });
    const response = failedResponse(meta(), broken, [{ type: 'message', parts: [{ type: 'output_text', text: 'Half', logprobs: [] }] }]);
    assertMatchesSchema('Response', response);
    assert.equal(response.output[0]!.status, 'incomplete');
  });

  test('the schema check is real: a Response missing a required field is refused', () => {
    const { tools: _tools, ...missing } = inProgressResponse(meta());
    assert.throws(() => assertMatchesSchema('Response', missing), /does not match Response/);
    assert.throws(() => assertMatchesSchema('Response', { ...inProgressResponse(meta()), error: { code: 'upstream_stream_broken', message: 'x' } }), /does not match/);
  });
});
