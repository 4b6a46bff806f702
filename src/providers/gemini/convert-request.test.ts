import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionRequest } from '../../core/openai-types.js';
import { toGeminiRequest } from './convert-request.js';
import { newToolCallId, SKIP_SIGNATURE } from './tool-call-id.js';

const base = (extra: Partial<ChatCompletionRequest>): ChatCompletionRequest => ({ model: 'm', messages: [{ role: 'user', content: 'Hi' }], ...extra });

function rejects(request: ChatCompletionRequest, param: string): void {
  assert.throws(() => toGeminiRequest(request), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.status, 400);
    assert.equal(error.param, param);
    return true;
  });
}

describe('messages', () => {
  test('system and developer messages become systemInstruction; assistant becomes model; same-role turns merge', () => {
    const body = toGeminiRequest(base({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
        { role: 'user', content: 'Hello' },
        { role: 'user', content: [{ type: 'text', text: 'Are you there?' }] },
        { role: 'assistant', content: 'Oui.' },
      ],
    }));
    assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'Answer in French.' }] });
    assert.deepEqual(body.contents, [
      { role: 'user', parts: [{ text: 'Hello' }, { text: 'Are you there?' }] },
      { role: 'model', parts: [{ text: 'Oui.' }] },
    ]);
  });

  test('a prompt of system messages only is sent as the user turn (Gemini requires contents)', () => {
    const body = toGeminiRequest(base({ messages: [{ role: 'system', content: 'Write a haiku.' }] }));
    assert.deepEqual(body.contents, [{ role: 'user', parts: [{ text: 'Write a haiku.' }] }]);
    assert.equal(body.systemInstruction, undefined);
  });

  test('image_url: data URLs become inlineData, http(s) URLs fileData with a MIME type guessed from the path', () => {
    const body = toGeminiRequest(base({
      messages: [{
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/photos/cat.JPG?size=large' } },
          { type: 'image_url', image_url: { url: 'https://example.com/render' } },
        ],
      }],
    }));
    assert.deepEqual(body.contents[0]!.parts, [
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/photos/cat.JPG?size=large' } },
      { fileData: { fileUri: 'https://example.com/render' } },
    ]);
  });

  test('a URL-encoded (not base64) data URL is base64-encoded; a malformed one is a 400', () => {
    const body = toGeminiRequest(base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/svg+xml,%3Csvg%2F%3E' } }] }] }));
    assert.deepEqual(body.contents[0]!.parts, [{ inlineData: { mimeType: 'image/svg+xml', data: Buffer.from('<svg/>').toString('base64') } }]);
    rejects(base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:nonsense' } }] }] }), 'messages[0].content[0].image_url.url');
    rejects(base({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://example.com/a.png' } }] }] }), 'messages[0].content[0].image_url.url');
  });

  test('assistant tool calls become functionCall parts with parsed args; tool results functionResponse parts', () => {
    const ours = newToolCallId('CiQSignature==');
    const body = toGeminiRequest(base({
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: ours, type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: ours, content: '{"temp":21}' },
        { role: 'tool', tool_call_id: 'call_2', content: 'Rainy, 14 degrees' },
        { role: 'user', content: 'Thanks!' },
      ],
    }));
    assert.deepEqual(body.contents, [
      { role: 'user', parts: [{ text: 'Weather in Paris and Rome?' }] },
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'get_weather', args: { city: 'Paris' } }, thoughtSignature: 'CiQSignature==' },
          { functionCall: { name: 'get_weather', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { temp: 21 } } },
          { functionResponse: { name: 'get_weather', response: { output: 'Rainy, 14 degrees' } } },
          { text: 'Thanks!' },
        ],
      },
    ]);
  });

  test("a step's first call without a signature of ours gets the documented skip marker; JSON non-objects go under output", () => {
    const body = toGeminiRequest(base({
      messages: [
        { role: 'user', content: 'x' },
        { role: 'assistant', content: 'Let me check.', tool_calls: [{ id: 'toolu_01', type: 'function', function: { name: 'f', arguments: '' } }] },
        { role: 'tool', tool_call_id: 'toolu_01', content: '[1,2]' },
      ],
    }));
    assert.deepEqual(body.contents[1], { role: 'model', parts: [{ text: 'Let me check.' }, { functionCall: { name: 'f', args: {} }, thoughtSignature: SKIP_SIGNATURE }] });
    assert.deepEqual(body.contents[2], { role: 'user', parts: [{ functionResponse: { name: 'f', response: { output: [1, 2] } } }] });
  });

  test('what Gemini cannot take is a 400 naming the parameter', () => {
    rejects(base({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{bad' } }] }] }), 'messages[1].tool_calls[0].function.arguments');
    rejects(base({ messages: [{ role: 'user', content: 'x' }, { role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] }), 'messages[1].tool_calls[0].function.arguments');
    rejects(base({ messages: [{ role: 'tool', tool_call_id: 'nowhere', content: 'x' }] }), 'messages[0].tool_call_id');
    rejects(base({ tools: [{ type: 'custom', custom: { name: 'grammar' } }] }), 'tools[0].type');
  });
});

describe('tools and tool_choice', () => {
  const tools: ChatCompletionRequest['tools'] = [
    { type: 'function', function: { name: 'a', description: 'A', parameters: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'object', properties: { x: { type: 'string' } }, additionalProperties: false } } },
    { type: 'function', function: { name: 'b' } },
  ];

  test('functionDeclarations take the JSON Schema as parametersJsonSchema, without $schema', () => {
    const body = toGeminiRequest(base({ tools }));
    assert.deepEqual(body.tools, [{
      functionDeclarations: [
        { name: 'a', description: 'A', parametersJsonSchema: { type: 'object', properties: { x: { type: 'string' } }, additionalProperties: false } },
        { name: 'b' },
      ],
    }]);
    assert.equal(body.toolConfig, undefined);
  });

  test('none -> NONE, required -> ANY, a named function -> ANY limited to it, allowed_tools', () => {
    assert.deepEqual(toGeminiRequest(base({ tools, tool_choice: 'none' })).toolConfig, { functionCallingConfig: { mode: 'NONE' } });
    assert.deepEqual(toGeminiRequest(base({ tools, tool_choice: 'required' })).toolConfig, { functionCallingConfig: { mode: 'ANY' } });
    assert.deepEqual(toGeminiRequest(base({ tools, tool_choice: { type: 'function', function: { name: 'b' } } })).toolConfig, {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['b'] },
    });
    const allowed = [{ type: 'function', function: { name: 'a' } }];
    assert.deepEqual(toGeminiRequest(base({ tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'required', tools: allowed } } })).toolConfig, {
      functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['a'] },
    });
    // "auto" over a subset: only the subset is declared.
    const auto = toGeminiRequest(base({ tools, tool_choice: { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: allowed } } }));
    assert.deepEqual(auto.tools![0]!.functionDeclarations.map((d) => d.name), ['a']);
    assert.deepEqual(auto.toolConfig, { functionCallingConfig: { mode: 'AUTO' } });
  });
});

describe('generationConfig', () => {
  test('sampling, limits, stop, seed, n and penalties map to their Gemini names', () => {
    const body = toGeminiRequest(base({ max_tokens: 100, max_completion_tokens: 50, temperature: 0.2, top_p: 0.9, stop: 'END', seed: 7, n: 3, presence_penalty: 0.5, frequency_penalty: 0.1 }));
    assert.deepEqual(body.generationConfig, {
      maxOutputTokens: 50, temperature: 0.2, topP: 0.9, seed: 7, candidateCount: 3, presencePenalty: 0.5, frequencyPenalty: 0.1, stopSequences: ['END'],
    });
    assert.equal(toGeminiRequest(base({ n: 1 })).generationConfig, undefined);
  });

  test('json_object -> application/json; json_schema -> application/json with responseJsonSchema', () => {
    assert.deepEqual(toGeminiRequest(base({ response_format: { type: 'json_object' } })).generationConfig, { responseMimeType: 'application/json' });
    const schema = { $schema: 'x', type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string' } } };
    assert.deepEqual(toGeminiRequest(base({ response_format: { type: 'json_schema', json_schema: { name: 's', strict: true, schema } } })).generationConfig, {
      responseMimeType: 'application/json',
      responseJsonSchema: { type: 'object', properties: { a: { $ref: '#/$defs/A' } }, $defs: { A: { type: 'string' } } },
    });
  });
});

describe('input Gemini would refuse, answered as the caller\'s 400 or adapted', () => {
  const image = (url: string): ChatCompletionRequest =>
    base({ messages: [{ role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url } }] }] });

  test('a broken image URL or data URL is a 400 naming the part, not a 500', () => {
    rejects(image('http://[bad'), 'messages[0].content[1].image_url.url');
    rejects(image('data:text/plain,%E0%A4%A'), 'messages[0].content[1].image_url.url');
  });

  test('tools with a JSON response format: the format moves to the system instruction', () => {
    const body = toGeminiRequest(base({
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }],
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
    }));
    assert.equal(body.generationConfig?.responseMimeType, undefined);
    assert.match(body.systemInstruction!.parts.at(-1)!.text, /single JSON object matching this JSON schema: \{"type":"object"/);
  });
});
