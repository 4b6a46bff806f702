// Items -> stored form -> chat messages -> chat request, and the round trip of a response's output
// back into the next turn's history.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChatCompletion } from '../core/openai-types.js';
import { assertMatchesSchema } from '../../test/support/openapi.js';
import { parseConversationItems, parseStoredItems } from './conversation-items.js';
import { itemsToMessages, normalizeInput, toChatRequest } from './items.js';
import { parseCreateResponse } from './request.js';
import { toResponse } from './response.js';
import type { Item } from './types.js';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';
const HEX48 = /^[0-9a-f]{48}$/;

const items = (input: unknown[]): Item[] => normalizeInput(parseCreateResponse({ model: 'm', input }));

describe('normalizeInput', () => {
  test('a string is one user message with an input_text part and a msg_ id', () => {
    const [item, ...rest] = normalizeInput(parseCreateResponse({ model: 'm', input: 'Hello' }));
    assert.equal(rest.length, 0);
    assert.ok(item?.type === 'message');
    assert.match(item.id, /^msg_/);
    assert.match(item.id.slice(4), HEX48);
    assert.deepEqual({ ...item, id: 'x' }, { type: 'message', id: 'x', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'Hello' }] });
  });

  test('each kind of item gets a new id with its prefix, even one sent with an id; defaults filled in', () => {
    const normalized = items([
      { role: 'system', content: 'Sys' },
      { role: 'user', content: [{ type: 'input_image', image_url: PNG }] },
      { role: 'assistant', content: 'Earlier answer' },
      { type: 'message', role: 'assistant', content: [{ type: 'input_text', text: 'Typed as input' }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
      { type: 'reasoning', summary: [] },
      { type: 'message', id: 'msg_mine', role: 'user', content: 'kept', status: 'incomplete' },
      { type: 'function_call', id: 'fc_mine', call_id: 'call_2', name: 'g', arguments: '{}' },
    ]);
    assert.deepEqual(
      normalized.map((i) => i.id.replace(/_[0-9a-f]{48}$/, '_<hex>')),
      ['msg_<hex>', 'msg_<hex>', 'msg_<hex>', 'msg_<hex>', 'fc_<hex>', 'fco_<hex>', 'rs_<hex>', 'msg_<hex>', 'fc_<hex>'],
    );
    assert.equal(new Set(normalized.map((i) => i.id)).size, normalized.length);
    const strip = ({ id: _id, ...rest }: Item) => rest;
    assert.deepEqual(normalized.map(strip), [
      { type: 'message', status: 'completed', role: 'system', content: [{ type: 'input_text', text: 'Sys' }] },
      { type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_image', image_url: PNG, detail: 'auto' }] },
      { type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Earlier answer', annotations: [], logprobs: [] }] },
      { type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Typed as input', annotations: [], logprobs: [] }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}', status: 'completed' },
      { type: 'function_call_output', call_id: 'call_1', output: 'sunny', status: 'completed' },
      { type: 'reasoning', summary: [] },
      { type: 'message', status: 'incomplete', role: 'user', content: [{ type: 'input_text', text: 'kept' }] },
      { type: 'function_call', call_id: 'call_2', name: 'g', arguments: '{}', status: 'completed' },
    ]);
  });

  test('stored items match the schemas OpenAI lists input items with', () => {
    const normalized = items([
      { role: 'developer', content: 'Dev' },
      { role: 'user', content: [{ type: 'input_text', text: 'a' }, { type: 'input_image', image_url: PNG, detail: 'low' }] },
      { role: 'assistant', content: [{ type: 'output_text', text: 'b' }, { type: 'refusal', refusal: 'no' }] },
      { type: 'function_call', call_id: 'call_1', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'ok' }] },
      { type: 'reasoning', summary: [{ type: 'summary_text', text: 'hm' }] },
    ]);
    const schemas = ['InputMessageResource', 'InputMessageResource', 'OutputMessage', 'FunctionToolCallResource', 'FunctionToolCallOutputResource', 'ReasoningItem'];
    normalized.forEach((item, i) => assertMatchesSchema(schemas[i]!, item));
  });
});

describe('itemsToMessages', () => {
  test('instructions lead as a system message; none when unset or empty', () => {
    const history = items([{ role: 'user', content: 'Hi' }]);
    assert.deepEqual(itemsToMessages('Be brief.', history), [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
    assert.deepEqual(itemsToMessages(undefined, history), [{ role: 'user', content: 'Hi' }]);
    assert.deepEqual(itemsToMessages(null, history), [{ role: 'user', content: 'Hi' }]);
    assert.deepEqual(itemsToMessages('', history), [{ role: 'user', content: 'Hi' }]);
  });

  test('roles map one to one; content parts map to chat parts', () => {
    const messages = itemsToMessages(
      null,
      items([
        { role: 'system', content: 'S' },
        { role: 'developer', content: 'D' },
        {
          role: 'user',
          content: [
            { type: 'input_text', text: 'Look:' },
            { type: 'input_image', image_url: 'https://example.com/cat.png', detail: 'low' },
            { type: 'input_image', image_url: PNG, detail: 'original' },
            { type: 'input_image', image_url: PNG },
            { type: 'input_file', file_data: 'data:application/pdf;base64,AA==', filename: 'a.pdf' },
          ],
        },
        { role: 'assistant', content: 'Plain' },
        { role: 'assistant', content: [{ type: 'output_text', text: 'Part one.' }, { type: 'refusal', refusal: 'Not that.' }] },
        { role: 'assistant', content: [{ type: 'refusal', refusal: 'Only a refusal.' }] },
      ]),
    );
    assert.deepEqual(messages, [
      { role: 'system', content: 'S' },
      { role: 'developer', content: 'D' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Look:' },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.png', detail: 'low' } },
          { type: 'image_url', image_url: { url: PNG, detail: 'high' } },
          { type: 'image_url', image_url: { url: PNG, detail: 'auto' } },
          { type: 'file', file: { file_data: 'data:application/pdf;base64,AA==', filename: 'a.pdf' } },
        ],
      },
      { role: 'assistant', content: 'Plain' },
      { role: 'assistant', content: [{ type: 'text', text: 'Part one.' }, { type: 'refusal', refusal: 'Not that.' }] },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'Only a refusal.' }] },
    ]);
  });

  test('parallel tool calls: the assistant message and the calls after it are one turn, each output one tool message', () => {
    const messages = itemsToMessages(
      'Use tools.',
      items([
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { type: 'reasoning', summary: [] },
        { role: 'assistant', content: 'Checking both.' },
        { type: 'function_call', call_id: 'call_p', name: 'weather', arguments: '{"city":"Paris"}' },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'second call' }] },
        { type: 'function_call', call_id: 'call_r', name: 'weather', arguments: '{"city":"Rome"}' },
        { type: 'function_call_output', call_id: 'call_p', output: '18C' },
        { type: 'function_call_output', call_id: 'call_r', output: [{ type: 'input_text', text: '24' }, { type: 'input_text', text: 'C' }] },
        { role: 'assistant', content: 'Paris 18C, Rome 24C.' },
        { role: 'user', content: 'And Oslo?' },
        { type: 'function_call', call_id: 'call_o', name: 'weather', arguments: '{"city":"Oslo"}' },
        { type: 'function_call_output', call_id: 'call_o', output: [{ type: 'input_text', text: '5C' }] },
      ]),
    );
    assert.deepEqual(messages, [
      { role: 'system', content: 'Use tools.' },
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: 'Checking both.',
        tool_calls: [
          { id: 'call_p', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_r', type: 'function', function: { name: 'weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_p', content: '18C' },
      { role: 'tool', tool_call_id: 'call_r', content: [{ type: 'text', text: '24' }, { type: 'text', text: 'C' }] },
      { role: 'assistant', content: 'Paris 18C, Rome 24C.' },
      { role: 'user', content: 'And Oslo?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_o', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } }] },
      { role: 'tool', tool_call_id: 'call_o', content: '5C' },
    ]);
  });

  test("a response's output, fed back as history, is the assistant turn the upstream gave", () => {
    const request = parseCreateResponse({ model: 'm', input: 'Weather?', tools: [{ type: 'function', name: 'weather' }] });
    const message = {
      role: 'assistant' as const,
      content: 'Let me look.',
      tool_calls: [
        { id: 'call_a', type: 'function' as const, function: { name: 'weather', arguments: '{"city":"Paris"}' } },
        { id: 'call_b', type: 'function' as const, function: { name: 'weather', arguments: '{"city":"Rome"}' } },
      ],
    };
    const completion: ChatCompletion = {
      id: 'c', object: 'chat.completion', created: 1, model: 'm',
      choices: [{ index: 0, message, finish_reason: 'tool_calls', logprobs: null }],
    };
    const response = toResponse(completion, { id: 'resp_1', createdAt: 1, model: 'm', request });
    assertMatchesSchema('Response', response);
    const history = [...normalizeInput(request), ...response.output];
    assert.deepEqual(itemsToMessages(undefined, history), [{ role: 'user', content: 'Weather?' }, message]);
    // The same history read back from storage as plain JSON is the same.
    assert.deepEqual(parseStoredItems(JSON.parse(JSON.stringify(history))), history);
  });
});

describe('toChatRequest', () => {
  test('a bare request is just model and messages', () => {
    const request = parseCreateResponse({ model: 'm', input: 'Hi' });
    const chat = toChatRequest(request, itemsToMessages(request.instructions, normalizeInput(request)));
    assert.deepEqual(chat, { model: 'm', messages: [{ role: 'user', content: 'Hi' }] });
    assertMatchesSchema('CreateChatCompletionRequest', chat);
  });

  test('every mapped field', () => {
    const request = parseCreateResponse({
      model: 'm',
      input: 'Hi',
      instructions: 'Sys',
      tools: [
        { type: 'function', name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true },
        { type: 'function', name: 'bare', parameters: null, strict: null },
      ],
      tool_choice: { type: 'function', name: 'weather' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true, description: 'The answer' }, verbosity: 'low' },
      max_output_tokens: 300,
      temperature: 0.2,
      top_p: 0.8,
      user: 'user-1',
      safety_identifier: 'safety-1',
      prompt_cache_key: 'key-1',
      reasoning: { effort: 'minimal' },
      include: ['message.output_text.logprobs'],
      top_logprobs: 3,
      stream: true,
      store: false,
      metadata: { a: 'b' },
    });
    const messages = itemsToMessages(request.instructions, normalizeInput(request));
    const chat = toChatRequest(request, messages);
    assert.deepEqual(chat, {
      model: 'm',
      messages: [{ role: 'system', content: 'Sys' }, { role: 'user', content: 'Hi' }],
      tools: [
        { type: 'function', function: { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: true } },
        { type: 'function', function: { name: 'bare' } },
      ],
      tool_choice: { type: 'function', function: { name: 'weather' } },
      parallel_tool_calls: false,
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema: { type: 'object' }, description: 'The answer', strict: true } },
      max_completion_tokens: 300,
      temperature: 0.2,
      top_p: 0.8,
      user: 'safety-1',
      reasoning_effort: 'minimal',
      verbosity: 'low',
      prompt_cache_key: 'key-1',
      logprobs: true,
      top_logprobs: 3,
      stream: true,
      stream_options: { include_usage: true },
    });
    assertMatchesSchema('CreateChatCompletionRequest', chat);
  });

  test('tool_choice modes, allowed_tools, and nothing tool-related without tools', () => {
    const tools = [{ type: 'function', name: 'f' }, { type: 'function', name: 'g' }];
    const chat = (body: Record<string, unknown>) => {
      const request = parseCreateResponse({ model: 'm', input: 'Hi', ...body });
      return toChatRequest(request, []);
    };
    for (const mode of ['none', 'auto', 'required'] as const) assert.equal(chat({ tools, tool_choice: mode }).tool_choice, mode);
    assert.deepEqual(chat({ tools, tool_choice: { type: 'allowed_tools', mode: 'required', tools: [{ type: 'function', name: 'g' }] } }).tool_choice, {
      type: 'allowed_tools',
      allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'g' } }] },
    });
    const bare = chat({ tool_choice: 'auto', parallel_tool_calls: true });
    assert.equal('tool_choice' in bare || 'parallel_tool_calls' in bare || 'tools' in bare, false);
  });

  test('text formats: json_object as is, text sends nothing; user falls back to `user`', () => {
    const chat = (body: Record<string, unknown>) => toChatRequest(parseCreateResponse({ model: 'm', input: 'Hi', ...body }), []);
    assert.deepEqual(chat({ text: { format: { type: 'json_object' } } }).response_format, { type: 'json_object' });
    assert.equal('response_format' in chat({ text: { format: { type: 'text' } } }), false);
    assert.equal(chat({ user: 'u' }).user, 'u');
    assert.equal('logprobs' in chat({}), false);
  });
});

describe('conversation items', () => {
  test('parsed like input, stored without their id in the body', () => {
    const parsed = parseConversationItems([{ role: 'user', content: 'Hi' }, { type: 'function_call_output', id: 'fco_1', call_id: 'c', output: 'x' }], 'items');
    assert.equal(parsed.length, 2);
    assert.match(parsed[0]!.id, /^msg_[0-9a-f]{48}$/);
    assert.deepEqual(parsed[0]!.body, { type: 'message', status: 'completed', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] });
    // The id sent is replaced: a stored id must never collide with one already stored.
    assert.match(parsed[1]!.id, /^fco_[0-9a-f]{48}$/);
    assert.deepEqual(parsed[1]!.body, { type: 'function_call_output', call_id: 'c', output: 'x', status: 'completed' });
  });

  test('at most 20 per call; bad items name their place', () => {
    assert.throws(() => parseConversationItems(Array.from({ length: 21 }, () => ({ role: 'user', content: 'x' })), 'items'), { param: 'items', code: 'invalid_value' });
    assert.throws(() => parseConversationItems([{ role: 'user', content: 'x' }, { type: 'item_reference', id: 'msg_1' }], 'items'), { param: 'items[1].type', code: 'unsupported_value' });
    assert.throws(() => parseConversationItems(undefined, 'items'), { param: 'items', code: 'missing_required_parameter' });
  });
});
