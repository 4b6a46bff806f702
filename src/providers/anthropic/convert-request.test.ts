// OpenAI -> Anthropic request translation: roles, merging, tools, images, parameters, refusals.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionRequest } from '../../core/openai-types.js';
import { toAnthropicRequest } from './convert-request.js';

const options = { upstreamModel: 'claude-x', defaultMaxTokens: 4096 };
const convert = (request: Partial<ChatCompletionRequest>) =>
  toAnthropicRequest({ model: 'public', messages: [{ role: 'user', content: 'Hi' }], ...request }, options);

function rejects(request: Partial<ChatCompletionRequest>, param: string, code: string): void {
  assert.throws(() => convert(request), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    assert.equal(error.code, code);
    assert.equal(error.retryable, false);
    return true;
  });
}

describe('messages', () => {
  test('system and developer messages become the system blocks, in order, wherever they stand', () => {
    const { body } = convert({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      ],
    });
    assert.deepEqual(body.system, [{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Answer in French.' }]);
    assert.deepEqual(body.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  test('a tool round trip: tool_calls -> tool_use with parsed input, tool messages -> one user turn of tool_results first', () => {
    const { body } = convert({
      messages: [
        { role: 'user', content: 'Weather in Oslo and Bergen?' },
        {
          role: 'assistant',
          content: 'Checking.',
          tool_calls: [
            { id: 'toolu_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Oslo"}' } },
            { id: 'toolu_2', type: 'function', function: { name: 'weather', arguments: '' } },
          ],
        },
        { role: 'tool', tool_call_id: 'toolu_1', content: '12 C' },
        { role: 'user', content: 'Also, be quick.' },
        { role: 'tool', tool_call_id: 'toolu_2', content: [{ type: 'text', text: '9 C' }] },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ type: 'text', text: 'Weather in Oslo and Bergen?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', id: 'toolu_1', name: 'weather', input: { city: 'Oslo' } },
          { type: 'tool_use', id: 'toolu_2', name: 'weather', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '12 C' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: '9 C' },
          { type: 'text', text: 'Also, be quick.' },
        ],
      },
    ]);
  });

  test('consecutive user turns merge; an assistant turn with tool calls and no text has no empty text block', () => {
    const { body } = convert({
      messages: [
        { role: 'user', content: 'One' },
        { role: 'user', content: [{ type: 'text', text: 'Two' }] },
        { role: 'assistant', content: '', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 't', content: '' },
      ],
    });
    assert.deepEqual(body.messages[0], { role: 'user', content: [{ type: 'text', text: 'One' }, { type: 'text', text: 'Two' }] });
    assert.deepEqual(body.messages[1]!.content, [{ type: 'tool_use', id: 't', name: 'f', input: {} }]);
    assert.deepEqual(body.messages[2]!.content, [{ type: 'tool_result', tool_use_id: 't' }]);
  });

  test('images: data URLs become base64 sources, http(s) URLs url sources', () => {
    const { body } = convert({
      messages: [{
        role: 'user',
        content: [
          { type: 'text', text: 'Compare' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg', detail: 'high' } },
        ],
      }],
    });
    assert.deepEqual(body.messages[0]!.content.slice(1), [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  test('what Anthropic cannot take is a 400 naming the part', () => {
    const image = (url: string) => ({ messages: [{ role: 'user' as const, content: [{ type: 'image_url' as const, image_url: { url } }] }] });
    rejects(image('data:image/bmp;base64,Qk0='), 'messages[0].content[0].image_url.url', 'unsupported_value');
    rejects(image('data:image/png,rawbytes'), 'messages[0].content[0].image_url.url', 'unsupported_value');
    rejects(image('ftp://example.com/a.png'), 'messages[0].content[0].image_url.url', 'unsupported_value');
    rejects({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }] }] }, 'messages[0].content[0].type', 'unsupported_value');
    rejects(
      { messages: [{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] },
      'messages[0].tool_calls[0].function.arguments',
      'invalid_value',
    );
    rejects({ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', 'invalid_value');
    rejects({ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role', 'unsupported_value');
  });
});

describe('tools and tool_choice', () => {
  const tool = { type: 'function' as const, function: { name: 'weather', description: 'Weather now', parameters: { type: 'object', properties: { city: { type: 'string' } } } } };

  test('function tools become name/description/input_schema; tool_choice maps auto/required/none/named', () => {
    const { body } = convert({ tools: [tool] });
    assert.deepEqual(body.tools, [{ name: 'weather', description: 'Weather now', input_schema: tool.function.parameters }]);
    assert.equal(body.tool_choice, undefined);
    assert.deepEqual(convert({ tools: [tool], tool_choice: 'auto' }).body.tool_choice, { type: 'auto' });
    assert.deepEqual(convert({ tools: [tool], tool_choice: 'required' }).body.tool_choice, { type: 'any' });
    assert.deepEqual(convert({ tools: [tool], tool_choice: 'none' }).body.tool_choice, { type: 'none' });
    assert.deepEqual(convert({ tools: [tool], tool_choice: { type: 'function', function: { name: 'weather' } } }).body.tool_choice, { type: 'tool', name: 'weather' });
    assert.deepEqual(convert({ tools: [tool], parallel_tool_calls: false }).body.tool_choice, { type: 'auto', disable_parallel_tool_use: true });
    assert.deepEqual(convert({ tools: [{ type: 'function', function: { name: 'bare' } }] }).body.tools, [{ name: 'bare', input_schema: { type: 'object', properties: {} } }]);
  });

  test('allowed_tools narrows the tool list; custom tools are refused', () => {
    const other = { type: 'function' as const, function: { name: 'other' } };
    const { body } = convert({
      tools: [tool, other],
      tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: [{ type: 'function', function: { name: 'other' } }] } },
    });
    assert.deepEqual(body.tools!.map((t) => t.name), ['other']);
    assert.deepEqual(body.tool_choice, { type: 'any' });
    rejects({ tools: [{ type: 'custom', custom: { name: 'grammar' } }] }, 'tools[0].type', 'unsupported_value');
  });
});

describe('parameters', () => {
  test('max_tokens: max_completion_tokens wins, then max_tokens, then the configured default', () => {
    assert.equal(convert({}).body.max_tokens, 4096);
    assert.equal(convert({ max_tokens: 100 }).body.max_tokens, 100);
    assert.equal(convert({ max_tokens: 100, max_completion_tokens: 50 }).body.max_tokens, 50);
  });

  test('stop, temperature (clamped to 1), top_p, top_k, user, stream and the upstream model', () => {
    const { body } = convert({ stop: 'END', temperature: 1.6, top_p: 0.9, top_k: 40, user: 'u-1', stream: true, seed: 7, presence_penalty: 1 });
    assert.equal(body.model, 'claude-x');
    assert.deepEqual(body.stop_sequences, ['END']);
    assert.equal(body.temperature, 1);
    assert.equal(body.top_p, undefined, 'current Claude models refuse temperature and top_p together');
    assert.equal(convert({ top_p: 0.9 }).body.top_p, 0.9);
    assert.deepEqual(convert({ stop: ['\n', ' ', 'END'] }).body.stop_sequences, ['END'], 'whitespace-only stops are refused upstream');
    assert.equal(body.top_k, 40);
    assert.deepEqual(body.metadata, { user_id: 'u-1' });
    assert.equal(body.stream, true);
    assert.ok(!('seed' in body) && !('presence_penalty' in body), 'no OpenAI-only fields reach Anthropic');
    assert.deepEqual(convert({ stop: ['a', 'b'] }).body.stop_sequences, ['a', 'b']);
    assert.equal(convert({ temperature: 0.3 }).body.temperature, 0.3);
  });

  test('n > 1 and logprobs are 400s naming the parameter; n = 1 is fine', () => {
    rejects({ n: 2 }, 'n', 'unsupported_parameter');
    rejects({ logprobs: true }, 'logprobs', 'unsupported_parameter');
    assert.equal(convert({ n: 1, logprobs: false }).body.model, 'claude-x');
  });
});

describe('response_format', () => {
  const schema = { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };

  test('json_schema without tools: a forced tool named after the schema carries it', () => {
    const converted = convert({ response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema } } });
    assert.equal(converted.jsonTool, 'verdict');
    assert.deepEqual(converted.body.tools, [{ name: 'verdict', description: "Give the answer as this tool's input.", input_schema: schema }]);
    assert.deepEqual(converted.body.tool_choice, { type: 'tool', name: 'verdict' });
  });

  test('json_object: a forced tool taking any object', () => {
    const converted = convert({ response_format: { type: 'json_object' } });
    assert.equal(converted.jsonTool, 'json_response');
    assert.deepEqual(converted.body.tools![0]!.input_schema, { type: 'object', properties: {} });
  });

  test('with caller tools the format is asked for in the system prompt and their tools stay callable', () => {
    const converted = convert({
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }],
      tools: [{ type: 'function', function: { name: 'lookup' } }],
      response_format: { type: 'json_schema', json_schema: { name: 'verdict', schema } },
    });
    assert.equal(converted.jsonTool, undefined);
    assert.deepEqual(converted.body.tools!.map((t) => t.name), ['lookup']);
    assert.equal(converted.body.system!.length, 2);
    assert.match(converted.body.system![1]!.text, /single JSON object matching this JSON schema: \{"type":"object"/);
    assert.equal(convert({ response_format: { type: 'text' } }).jsonTool, undefined);
  });
});

describe('requests Anthropic would refuse though OpenAI accepts them', () => {
  const call = { id: 'call_1', type: 'function' as const, function: { name: 'lookup', arguments: '{"q":"x"}' } };

  test('a history with tool calls but no tools declares stubs and forbids new calls', () => {
    const { body } = convert({
      messages: [
        { role: 'user', content: 'find x' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: 'call_1', content: 'found' },
        { role: 'user', content: 'now summarise' },
      ],
    });
    assert.deepEqual(body.tools?.map((t) => t.name), ['lookup']);
    assert.deepEqual(body.tool_choice, { type: 'none' });
  });

  test('tool parameters {} or without a type get an object schema', () => {
    const { body } = convert({
      tools: [
        { type: 'function', function: { name: 'now', parameters: {} } },
        { type: 'function', function: { name: 'find', parameters: { properties: { q: { type: 'string' } } } } },
      ],
    });
    assert.deepEqual(body.tools![0]!.input_schema, { type: 'object', properties: {} });
    assert.equal(body.tools![1]!.input_schema.type, 'object');
  });

  test('ids another provider minted (a Gemini thought signature inside) are made portable, consistently', () => {
    const foreign = 'call_0123456789abcdef01234567~ts~CiQB0e2Kb+/x9Q==';
    const { body } = convert({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: '', tool_calls: [{ ...call, id: foreign }] },
        { role: 'tool', tool_call_id: foreign, content: 'done' },
      ],
    });
    const use = body.messages[1]!.content[0] as { id: string };
    const result = body.messages[2]!.content[0] as { tool_use_id: string };
    assert.match(use.id, /^[A-Za-z0-9_-]{1,40}$/);
    assert.equal(result.tool_use_id, use.id);
  });

  test('empty turns are left out, and the turns around them merged', () => {
    const { body } = convert({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'assistant', content: '' },
        { role: 'user', content: 'two' },
      ],
    });
    assert.equal(body.messages.length, 1);
    assert.deepEqual(body.messages[0]!.content.map((b) => (b as { text: string }).text), ['one', 'two']);
  });
});
