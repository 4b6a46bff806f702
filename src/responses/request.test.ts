// parseCreateResponse: what a valid body becomes, and for every kind of bad body, the 400 and the
// param that names the bad value.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../core/errors.js';
import { parseCreateResponse } from './request.js';

const PNG = 'data:image/png;base64,iVBORw0KGgo=';

function rejects(body: unknown, param: string | null, code: string, message?: RegExp): GatewayError {
  let caught: unknown;
  try {
    parseCreateResponse(body);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof GatewayError, `expected a GatewayError for ${JSON.stringify(body).slice(0, 200)}`);
  assert.equal(caught.status, 400);
  assert.equal(caught.type, 'invalid_request_error');
  assert.equal(caught.param, param, caught.message);
  assert.equal(caught.code, code, caught.message);
  if (message) assert.match(caught.message, message);
  return caught;
}

const base = { model: 'gpt-test', input: 'Hello' };

describe('valid bodies', () => {
  test('a string input with nothing else: defaults where readers need them, everything else absent', () => {
    assert.deepEqual(parseCreateResponse(base), {
      model: 'gpt-test',
      input: 'Hello',
      tools: [],
      text: {},
      metadata: {},
      store: true,
      stream: false,
      truncation: 'disabled',
      include: [],
    });
  });

  test('every supported field is read', () => {
    const request = parseCreateResponse({
      model: 'gpt-test',
      input: [{ role: 'user', content: 'Hi' }],
      instructions: 'Be brief.',
      tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, strict: true }],
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true, description: 'd' }, verbosity: 'low' },
      max_output_tokens: 256,
      temperature: 0.5,
      top_p: 0.9,
      top_logprobs: 2,
      metadata: { topic: 'weather' },
      store: false,
      stream: true,
      previous_response_id: 'resp_1',
      truncation: 'auto',
      user: 'u-1',
      safety_identifier: 'safe-1',
      prompt_cache_key: 'pck',
      include: ['message.output_text.logprobs', 'reasoning.encrypted_content'],
      reasoning: { effort: 'low', summary: 'auto' },
      service_tier: 'flex',
      background: false,
      stream_options: { include_obfuscation: false },
      some_future_field: { anything: true },
    });
    assert.deepEqual(request, {
      model: 'gpt-test',
      input: [{ type: 'message', role: 'user', content: 'Hi' }],
      tools: [{ type: 'function', name: 'get_weather', description: 'Weather', parameters: { type: 'object' }, strict: true }],
      text: { format: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, description: 'd', strict: true }, verbosity: 'low' },
      metadata: { topic: 'weather' },
      store: false,
      stream: true,
      truncation: 'auto',
      include: ['message.output_text.logprobs', 'reasoning.encrypted_content'],
      instructions: 'Be brief.',
      tool_choice: { type: 'function', name: 'get_weather' },
      parallel_tool_calls: false,
      max_output_tokens: 256,
      temperature: 0.5,
      top_p: 0.9,
      top_logprobs: 2,
      previous_response_id: 'resp_1',
      user: 'u-1',
      safety_identifier: 'safe-1',
      prompt_cache_key: 'pck',
      reasoning: { effort: 'low', summary: 'auto' },
      service_tier: 'flex',
    });
  });

  test('null reads as unset, as the API treats it', () => {
    const request = parseCreateResponse({ ...base, instructions: null, temperature: null, tools: null, metadata: null, store: null, text: null, reasoning: null });
    assert.equal('instructions' in request, false);
    assert.equal('temperature' in request, false);
    assert.deepEqual(request.tools, []);
    assert.equal(request.store, true);
  });

  test('conversation as a string id or as {id}', () => {
    assert.equal(parseCreateResponse({ ...base, conversation: 'conv_1' }).conversation, 'conv_1');
    assert.equal(parseCreateResponse({ ...base, conversation: { id: 'conv_2' } }).conversation, 'conv_2');
  });

  test('input may be left out when continuing a response or a conversation', () => {
    assert.deepEqual(parseCreateResponse({ model: 'm', previous_response_id: 'resp_1' }).input, []);
    assert.deepEqual(parseCreateResponse({ model: 'm', conversation: 'conv_1' }).input, []);
  });

  test('every item kind is accepted, in both the short and the typed form', () => {
    const request = parseCreateResponse({
      model: 'm',
      input: [
        { role: 'developer', content: 'Rules.' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Look' }, { type: 'input_image', image_url: PNG, detail: 'high' }, { type: 'input_file', file_data: 'data:application/pdf;base64,AA==', filename: 'a.pdf' }] },
        { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Sure', annotations: [] }, { type: 'refusal', refusal: 'No.' }] },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'thinking' }], encrypted_content: 'blob' },
        { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'f', arguments: '{}' },
        { type: 'function_call_output', call_id: 'call_1', output: [{ type: 'input_text', text: 'ok' }] },
      ],
    });
    assert.equal((request.input as unknown[]).length, 6);
  });
});

describe('bad bodies are 400s naming the bad value', () => {
  test('the body itself', () => {
    rejects('hello', null, 'invalid_type');
    rejects([base], null, 'invalid_type');
  });

  test('model', () => {
    rejects({ input: 'x' }, 'model', 'missing_required_parameter', /Missing required parameter: 'model'/);
    rejects({ ...base, model: 7 }, 'model', 'invalid_type', /expected a string, but got an integer/);
    rejects({ ...base, model: '' }, 'model', 'missing_required_parameter');
  });

  test('input and its items', () => {
    rejects({ model: 'm' }, 'input', 'missing_required_parameter');
    rejects({ model: 'm', input: [] }, 'input', 'missing_required_parameter');
    rejects({ model: 'm', input: 5 }, 'input', 'invalid_type');
    rejects({ model: 'm', input: ['hi'] }, 'input[0]', 'invalid_type');
    rejects({ model: 'm', input: [{ role: 'robot', content: 'x' }] }, 'input[0].role', 'invalid_value', /'robot'.*'user', 'assistant', 'system', and 'developer'/);
    rejects({ model: 'm', input: [{ type: 'message', content: 'x' }] }, 'input[0].role', 'missing_required_parameter');
    rejects({ model: 'm', input: [{ role: 'user' }] }, 'input[0].content', 'missing_required_parameter');
    rejects({ model: 'm', input: [{ role: 'user', content: 'a' }, { role: 'user', content: [] }] }, 'input[1].content', 'invalid_value', /empty array/);
    rejects({ model: 'm', input: [{ role: 'user', content: 5 }] }, 'input[0].content', 'invalid_type', /expected a string or an array of content parts, but got an integer/);
    rejects({ model: 'm', input: [{ type: 7 }] }, 'input[0].type', 'invalid_type');
    rejects({ model: 'm', input: [{ type: 'telepathy' }] }, 'input[0].type', 'invalid_value', /Supported values are: 'message', 'function_call'/);
    rejects({ model: 'm', input: [{ role: 'user', content: 'x', status: 'done' }] }, 'input[0].status', 'invalid_value');
    rejects({ model: 'm', input: [{ role: 'user', content: 'x', id: 5 }] }, 'input[0].id', 'invalid_type');
  });

  test('content parts', () => {
    const user = (part: unknown) => ({ model: 'm', input: [{ role: 'user', content: 'a' }, { role: 'user', content: 'b' }, { role: 'user', content: [part] }] });
    rejects(user({ type: 'input_image', image_url: { url: PNG } }), 'input[2].content[0].image_url', 'invalid_type', /expected a string, but got an object/);
    rejects(user({ type: 'input_image' }), 'input[2].content[0].image_url', 'missing_required_parameter');
    rejects(user({ type: 'input_image', image_url: PNG, detail: 'ultra' }), 'input[2].content[0].detail', 'invalid_value');
    rejects(user({ type: 'input_text' }), 'input[2].content[0].text', 'missing_required_parameter');
    rejects(user({ type: 'input_text', text: 3 }), 'input[2].content[0].text', 'invalid_type');
    rejects(user({ type: 'output_text', text: 'x' }), 'input[2].content[0].type', 'invalid_value', /'input_text', 'input_image', and 'input_file'/);
    rejects(user({ text: 'x' }), 'input[2].content[0].type', 'missing_required_parameter');
    rejects(user({ type: 3, text: 'x' }), 'input[2].content[0].type', 'invalid_type');
    rejects(user('x'), 'input[2].content[0]', 'invalid_type');
    rejects(user({ type: 'input_file' }), 'input[2].content[0].file_data', 'missing_required_parameter');
    const assistant = { model: 'm', input: [{ role: 'assistant', content: [{ type: 'input_image', image_url: PNG }] }] };
    rejects(assistant, 'input[0].content[0].type', 'invalid_value', /'output_text' and 'refusal'/);
    rejects({ model: 'm', input: [{ role: 'assistant', content: [{ type: 'refusal' }] }] }, 'input[0].content[0].refusal', 'missing_required_parameter');
  });

  test('function calls and their outputs', () => {
    rejects({ model: 'm', input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, 'input[0].call_id', 'missing_required_parameter');
    rejects({ model: 'm', input: [{ type: 'function_call', call_id: '', name: 'f', arguments: '{}' }] }, 'input[0].call_id', 'invalid_value', /empty string/);
    rejects({ model: 'm', input: [{ type: 'function_call', call_id: 'c', arguments: '{}' }] }, 'input[0].name', 'missing_required_parameter');
    rejects({ model: 'm', input: [{ type: 'function_call', call_id: 'c', name: 'f', arguments: { a: 1 } }] }, 'input[0].arguments', 'invalid_type');
    rejects({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c' }] }, 'input[0].output', 'missing_required_parameter');
    rejects({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: 42 }] }, 'input[0].output', 'invalid_type');
    rejects({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c'.repeat(65), output: 'x' }] }, 'input[0].call_id', 'string_above_max_length');
    rejects({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'input_text', text: 'a' }, { type: 'input_image', image_url: PNG }] }] }, 'input[0].output[1].type', 'unsupported_value', /text only/);
    rejects({ model: 'm', input: [{ type: 'function_call_output', call_id: 'c', output: [{ type: 'output_text', text: 'a' }] }] }, 'input[0].output[0].type', 'invalid_value');
  });

  test('reasoning items', () => {
    rejects({ model: 'm', input: [{ type: 'reasoning', id: 'rs_1' }] }, 'input[0].summary', 'missing_required_parameter');
    rejects({ model: 'm', input: [{ type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text' }] }] }, 'input[0].summary[0].text', 'missing_required_parameter');
  });

  test('tools', () => {
    rejects({ ...base, tools: {} }, 'tools', 'invalid_type');
    rejects({ ...base, tools: [{ type: 'function' }] }, 'tools[0].name', 'missing_required_parameter');
    rejects({ ...base, tools: [{ type: 'function', name: 'has space' }] }, 'tools[0].name', 'invalid_value', /pattern/);
    rejects({ ...base, tools: [{ type: 'function', name: 'x'.repeat(65) }] }, 'tools[0].name', 'invalid_value');
    rejects({ ...base, tools: [{ type: 'function', name: 'f', parameters: 'object' }] }, 'tools[0].parameters', 'invalid_type');
    rejects({ ...base, tools: [{ type: 'function', name: 'f', strict: 'yes' }] }, 'tools[0].strict', 'invalid_type');
    rejects({ ...base, tools: [{ type: 'function', name: 'f' }, { type: 'function', name: 'f' }] }, 'tools[1].name', 'invalid_value', /Duplicate/);
    rejects({ ...base, tools: [{ name: 'f' }] }, 'tools[0].type', 'missing_required_parameter');
    rejects({ ...base, tools: [{ type: 'spell' }] }, 'tools[0].type', 'invalid_value');
  });

  test('tool_choice', () => {
    const tools = [{ type: 'function', name: 'f' }];
    rejects({ ...base, tools, tool_choice: 'sometimes' }, 'tool_choice', 'invalid_value');
    rejects({ ...base, tool_choice: 'required' }, 'tool_choice', 'invalid_value', /at least one tool/);
    rejects({ ...base, tools, tool_choice: { type: 'function', name: 'g' } }, 'tool_choice.name', 'invalid_value', /not found in 'tools'/);
    rejects({ ...base, tools, tool_choice: { type: 'function' } }, 'tool_choice.name', 'missing_required_parameter');
    rejects({ ...base, tools, tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'g' }] } }, 'tool_choice.tools[0].name', 'invalid_value');
    rejects({ ...base, tools, tool_choice: { type: 'allowed_tools', tools: [] } }, 'tool_choice.mode', 'missing_required_parameter');
    rejects({ ...base, tools, tool_choice: { type: 'telepathy' } }, 'tool_choice.type', 'invalid_value');
    rejects({ ...base, tools, tool_choice: 5 }, 'tool_choice', 'invalid_type');
  });

  test('text', () => {
    rejects({ ...base, text: 'json' }, 'text', 'invalid_type');
    rejects({ ...base, text: { format: { type: 'yaml' } } }, 'text.format.type', 'invalid_value');
    rejects({ ...base, text: { format: {} } }, 'text.format.type', 'missing_required_parameter');
    rejects({ ...base, text: { format: { type: 'json_schema', schema: {} } } }, 'text.format.name', 'missing_required_parameter');
    rejects({ ...base, text: { format: { type: 'json_schema', name: 'bad name', schema: {} } } }, 'text.format.name', 'invalid_value');
    rejects({ ...base, text: { format: { type: 'json_schema', name: 'n' } } }, 'text.format.schema', 'missing_required_parameter');
    rejects({ ...base, text: { format: { type: 'json_schema', name: 'n', schema: [] } } }, 'text.format.schema', 'invalid_type');
    rejects({ ...base, text: { verbosity: 'chatty' } }, 'text.verbosity', 'invalid_value');
  });

  test('sampling and limits', () => {
    rejects({ ...base, max_output_tokens: 8 }, 'max_output_tokens', 'integer_below_min_value', /Expected a value >= 16/);
    rejects({ ...base, max_output_tokens: 100.5 }, 'max_output_tokens', 'invalid_type');
    rejects({ ...base, temperature: 3 }, 'temperature', 'decimal_above_max_value');
    rejects({ ...base, temperature: '1' }, 'temperature', 'invalid_type');
    rejects({ ...base, top_p: -0.1 }, 'top_p', 'decimal_below_min_value');
    rejects({ ...base, top_logprobs: 21 }, 'top_logprobs', 'integer_above_max_value');
    rejects({ ...base, parallel_tool_calls: 'yes' }, 'parallel_tool_calls', 'invalid_type');
    rejects({ ...base, truncation: 'sometimes' }, 'truncation', 'invalid_value');
    rejects({ ...base, service_tier: 'gold' }, 'service_tier', 'invalid_value');
    rejects({ ...base, reasoning: { effort: 'extreme' } }, 'reasoning.effort', 'invalid_value');
    rejects({ ...base, reasoning: 'high' }, 'reasoning', 'invalid_type');
    rejects({ ...base, include: ['everything'] }, 'include[0]', 'invalid_value');
    rejects({ ...base, include: 'reasoning.encrypted_content' }, 'include', 'invalid_type');
  });

  test('metadata, as OpenAI limits it', () => {
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    rejects({ ...base, metadata: many }, 'metadata', 'invalid_value', /at most 16/);
    rejects({ ...base, metadata: { ['k'.repeat(5000)]: 'v' } }, `metadata.${'k'.repeat(64)}`, 'invalid_value', /64 characters/);
    rejects({ ...base, metadata: { n: 1 } }, 'metadata.n', 'invalid_type');
    rejects({ ...base, metadata: { long: 'v'.repeat(513) } }, 'metadata.long', 'invalid_value', /maximum length 512/);
    rejects({ ...base, metadata: ['a'] }, 'metadata', 'invalid_type');
    assert.equal(Object.keys(parseCreateResponse({ ...base, metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, 'v'.repeat(512)])) }).metadata).length, 16);
  });

  test('identity and state fields', () => {
    rejects({ ...base, store: 'yes' }, 'store', 'invalid_type');
    rejects({ ...base, stream: 1 }, 'stream', 'invalid_type');
    rejects({ ...base, user: 5 }, 'user', 'invalid_type');
    rejects({ ...base, instructions: ['a'] }, 'instructions', 'invalid_type');
    rejects({ ...base, safety_identifier: 's'.repeat(65) }, 'safety_identifier', 'string_above_max_length');
    rejects({ ...base, previous_response_id: 5 }, 'previous_response_id', 'invalid_type');
    rejects({ ...base, conversation: 5 }, 'conversation', 'invalid_type');
    rejects({ ...base, conversation: {} }, 'conversation.id', 'missing_required_parameter');
    rejects({ ...base, conversation: '' }, 'conversation', 'invalid_value');
  });
});

describe('what chat completions cannot do is refused plainly', () => {
  test('hosted tools, by name', () => {
    for (const type of ['web_search', 'web_search_preview', 'file_search', 'code_interpreter', 'computer_use_preview', 'mcp', 'image_generation', 'local_shell']) {
      rejects({ ...base, tools: [{ type: 'function', name: 'f' }, { type }] }, 'tools[1].type', 'unsupported_value', new RegExp(`'${type}' tool is not supported.*function tools only`));
    }
    rejects({ ...base, tools: [{ type: 'function', name: 'f' }], tool_choice: { type: 'web_search_preview' } }, 'tool_choice.type', 'unsupported_value');
    rejects({ ...base, tools: [{ type: 'custom', name: 'c' }] }, 'tools[0].type', 'unsupported_value');
  });

  test('background runs, prompt templates, compaction, moderation, max_tool_calls', () => {
    rejects({ ...base, background: true }, 'background', 'unsupported_parameter', /Background responses are not supported/);
    rejects({ ...base, prompt: { id: 'pmpt_1' } }, 'prompt', 'unsupported_parameter', /Prompt templates/);
    rejects({ ...base, context_management: [{ type: 'compaction' }] }, 'context_management', 'unsupported_parameter');
    rejects({ ...base, moderation: { model: 'omni-moderation-latest' } }, 'moderation', 'unsupported_parameter');
    rejects({ ...base, max_tool_calls: 3 }, 'max_tool_calls', 'unsupported_parameter');
  });

  test('items that need stored state or hosted tools', () => {
    rejects({ model: 'm', input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type', 'unsupported_value', /Item references are not supported/);
    rejects({ model: 'm', input: [{ type: 'web_search_call', id: 'ws_1' }] }, 'input[0].type', 'unsupported_value', /no hosted tools/);
    rejects({ model: 'm', input: [{ type: 'custom_tool_call', id: 'ct_1' }] }, 'input[0].type', 'unsupported_value');
  });

  test('files and images by id or by URL', () => {
    const part = (p: unknown) => ({ model: 'm', input: [{ role: 'user', content: [p] }] });
    rejects(part({ type: 'input_file', file_id: 'file-1' }), 'input[0].content[0].file_id', 'unsupported_value', /keeps no files/);
    rejects(part({ type: 'input_file', file_url: 'https://example.com/a.pdf' }), 'input[0].content[0].file_url', 'unsupported_value');
    rejects(part({ type: 'input_image', file_id: 'file-1' }), 'input[0].content[0].file_id', 'unsupported_value', /image_url/);
  });

  test('conversation and previous_response_id together, as OpenAI refuses them', () => {
    rejects({ ...base, conversation: 'conv_1', previous_response_id: 'resp_1' }, 'conversation', 'mutually_exclusive_parameters', /only providing one of/);
  });
});
