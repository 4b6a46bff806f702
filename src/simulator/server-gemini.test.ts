// The simulator's Gemini front end over a real socket: request validation, function calling,
// structured output, images, streaming accounting and every fault in Gemini's shapes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { encode } from 'gpt-tokenizer';
import { startSimulator, type RunningSimulator } from './index.js';

const KEY = 'gemini-sim-key';
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

let sim: RunningSimulator;
let base: string;

before(async () => {
  sim = await startSimulator({ pacing: 'instant', apiKey: KEY });
  base = sim.url.replace(/\/v1$/, '/v1beta/models');
});
after(async () => sim.close());

interface GeminiAnswer {
  candidates?: Array<{ content: { parts?: Array<Record<string, unknown>>; role: string }; finishReason?: string; index: number }>;
  usageMetadata: { promptTokenCount: number; candidatesTokenCount?: number; totalTokenCount: number; promptTokensDetails: Array<{ modality: string; tokenCount: number }> };
  promptFeedback?: { blockReason: string };
  error?: { code: number; message: string; status: string };
}

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: GeminiAnswer }> {
  const response = await fetch(`${base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as GeminiAnswer };
}

async function stream(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ raw: string; events: GeminiAnswer[]; error?: unknown }> {
  let raw = '';
  try {
    const response = await fetch(`${base}/${path}:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY, ...headers },
      body: JSON.stringify(body),
    });
    raw = await response.text();
  } catch (error) {
    return { raw, events: [], error };
  }
  const events = raw
    .split('\r\n\r\n')
    .filter((b) => b.startsWith('data: '))
    .map((b) => JSON.parse(b.slice(6)) as GeminiAnswer);
  return { raw, events };
}

const user = (text: string) => ({ role: 'user', parts: [{ text }] });
const weather = {
  functionDeclarations: [
    {
      name: 'get_weather',
      description: 'Weather for a city',
      parametersJsonSchema: {
        type: 'object',
        properties: { city: { type: 'string', minLength: 2 }, days: { type: 'integer', minimum: 1, maximum: 7 } },
        required: ['city', 'days'],
        additionalProperties: false,
      },
    },
    { name: 'get_time', parameters: { type: 'OBJECT', properties: { zone: { type: 'STRING' } }, required: ['zone'] } },
  ],
};

function text(answer: GeminiAnswer, index = 0): string {
  return (answer.candidates?.[index]?.content.parts ?? []).map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

describe('generateContent', () => {
  test('text answer: usage counts the generated tokens; the key may come as ?key=', async () => {
    const response = await fetch(`${base}/sim-chat:generateContent?key=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ systemInstruction: { parts: [{ text: 'Be brief.' }] }, contents: [user('Hello there.')] }),
    });
    const json = (await response.json()) as GeminiAnswer;
    assert.equal(response.status, 200);
    assert.equal(json.candidates![0]!.finishReason, 'STOP');
    assert.equal(json.usageMetadata.candidatesTokenCount, encode(text(json)).length);
    assert.equal(json.usageMetadata.totalTokenCount, json.usageMetadata.promptTokenCount + json.usageMetadata.candidatesTokenCount!);
  });

  test('snake_case field names are accepted like camelCase; unknown names are rejected', async () => {
    const ok = await post('sim-chat:generateContent', { contents: [user('Hi')], generation_config: { max_output_tokens: 3 } });
    assert.equal(ok.json.candidates![0]!.finishReason, 'MAX_TOKENS');
    assert.equal(ok.json.usageMetadata.candidatesTokenCount, 3);
    const bad = await post('sim-chat:generateContent', { contents: [user('Hi')], generationConfig: { max_tokens: 3 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error!.status, 'INVALID_ARGUMENT');
    assert.match(bad.json.error!.message, /Unknown name "max_tokens" at 'generation_config'/);
  });

  test('stopSequences cut the answer; candidateCount gives several candidates', async () => {
    const seeded = { contents: [user('Tell me something.')], generationConfig: { seed: 7 } };
    const full = text((await post('sim-chat:generateContent', seeded)).json);
    const stop = full.split(' ')[3]!;
    const cut = await post('sim-chat:generateContent', { ...seeded, generationConfig: { seed: 7, stopSequences: [stop] } });
    assert.equal(text(cut.json), full.slice(0, full.indexOf(stop)));
    const many = await post('sim-chat:generateContent', { contents: [user('Hi')], generationConfig: { candidateCount: 3 } });
    assert.deepEqual(many.json.candidates!.map((c) => c.index), [0, 1, 2]);
  });

  test('an empty contents list and an invalid role are 400 INVALID_ARGUMENT', async () => {
    const empty = await post('sim-chat:generateContent', { contents: [] });
    assert.equal(empty.status, 400);
    assert.match(empty.json.error!.message, /contents is not specified/);
    const role = await post('sim-chat:generateContent', { contents: [{ role: 'assistant', parts: [{ text: 'x' }] }] });
    assert.match(role.json.error!.message, /valid role: user, model/);
  });

  test('images: inlineData and fileData reach sim-vision; sim-chat refuses them', async () => {
    const parts = [{ text: 'What is this?' }, { inlineData: { mimeType: 'image/png', data: PNG } }, { fileData: { mimeType: 'image/png', fileUri: 'https://example.com/cat.png' } }];
    const vision = await post('sim-vision:generateContent', { contents: [{ role: 'user', parts }] });
    assert.equal(vision.status, 200);
    assert.deepEqual(vision.json.usageMetadata.promptTokensDetails.find((d) => d.modality === 'IMAGE'), { modality: 'IMAGE', tokenCount: 170 });
    const chat = await post('sim-chat:generateContent', { contents: [{ role: 'user', parts }] });
    assert.equal(chat.status, 400);
    assert.match(chat.json.error!.message, /Image input modality is not enabled for models\/sim-chat/);
  });

  test('a prompt beyond the context window is 400 with the token counts', async () => {
    const long = await post('sim-small:generateContent', { contents: [user('word '.repeat(5000))] });
    assert.equal(long.status, 400);
    assert.match(long.json.error!.message, /^The input token count \(\d+\) exceeds the maximum number of tokens allowed \(4096\)\.$/);
  });

  test('an embedding model on generateContent is 404 NOT_FOUND', async () => {
    const wrong = await post('sim-embed:generateContent', { contents: [user('Hi')] });
    assert.equal(wrong.status, 404);
    assert.equal(wrong.json.error!.status, 'NOT_FOUND');
  });
});

describe('function calling', () => {
  test('a call follows the JSON schema; the first functionCall part carries a thought signature', async () => {
    const ajv = new Ajv({ strict: false });
    const { json } = await post('sim-chat:generateContent', {
      contents: [user('Weather in Paris?')],
      tools: [weather],
      toolConfig: { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['get_weather'] } },
    });
    const part = json.candidates![0]!.content.parts![0]!;
    const fn = part.functionCall as { name: string; args: unknown };
    assert.equal(fn.name, 'get_weather');
    assert.ok(ajv.validate(weather.functionDeclarations[0]!.parametersJsonSchema!, fn.args), ajv.errorsText());
    assert.equal(typeof part.thoughtSignature, 'string');
    assert.equal(json.candidates![0]!.finishReason, 'STOP');
  });

  test('JSON Schema keywords in `parameters` (the OpenAPI subset) are rejected as Google does', async () => {
    const { status, json } = await post('sim-chat:generateContent', {
      contents: [user('Hi')],
      tools: [{ functionDeclarations: [{ name: 'f', parameters: { type: 'object', properties: {}, additionalProperties: false } }] }],
    });
    assert.equal(status, 400);
    assert.equal(json.error!.message, `Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters': Cannot find field.`);
  });

  test('mode NONE answers in words; a function result gets a text answer', async () => {
    const none = await post('sim-chat:generateContent', { contents: [user('Hi')], tools: [weather], toolConfig: { functionCallingConfig: { mode: 'NONE' } } });
    assert.ok(text(none.json).length > 0);
    const roundTrip = await post('sim-chat:generateContent', {
      contents: [
        user('Weather in Paris?'),
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris', days: 1 } }, thoughtSignature: 'c2ln' }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny, 21C' } } }] },
      ],
      tools: [weather],
    });
    assert.equal(roundTrip.status, 200);
    assert.ok(text(roundTrip.json).length > 0);
  });

  test('a current-turn function call without its thought signature is 400, as on Gemini 3', async () => {
    const { status, json } = await post('sim-chat:generateContent', {
      contents: [
        user('Weather in Paris?'),
        { role: 'model', parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris', days: 1 } } }] },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny' } } }] },
      ],
      tools: [weather],
    });
    assert.equal(status, 400);
    assert.match(json.error!.message, /missing a thought_signature/);
  });

  test('a function call turn must be answered by as many function responses', async () => {
    const { status, json } = await post('sim-chat:generateContent', {
      contents: [
        user('Weather in Paris and Rome?'),
        {
          role: 'model',
          parts: [
            { functionCall: { name: 'get_weather', args: { city: 'Paris', days: 1 } }, thoughtSignature: 'c2ln' },
            { functionCall: { name: 'get_weather', args: { city: 'Rome', days: 1 } } },
          ],
        },
        { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny' } } }] },
      ],
      tools: [weather],
    });
    assert.equal(status, 400);
    assert.match(json.error!.message, /number of function response parts is equal to the number of function call parts/);
  });

  test('allowedFunctionNames without mode ANY is rejected', async () => {
    const { status } = await post('sim-chat:generateContent', {
      contents: [user('Hi')],
      tools: [weather],
      toolConfig: { functionCallingConfig: { mode: 'AUTO', allowedFunctionNames: ['get_weather'] } },
    });
    assert.equal(status, 400);
  });
});

describe('structured output', () => {
  test('responseJsonSchema answers JSON valid against it; responseSchema takes the OpenAPI subset', async () => {
    const schema = { type: 'object', properties: { name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['name', 'tags'], additionalProperties: false };
    const { json } = await post('sim-chat:generateContent', { contents: [user('A recipe')], generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema } });
    assert.ok(new Ajv({ strict: false }).validate(schema, JSON.parse(text(json))));
    const openApi = await post('sim-chat:generateContent', {
      contents: [user('A recipe')],
      generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'ARRAY', items: { type: 'STRING' } } },
    });
    assert.ok(Array.isArray(JSON.parse(text(openApi.json))));
    const both = await post('sim-chat:generateContent', {
      contents: [user('x')],
      generationConfig: { responseMimeType: 'application/json', responseSchema: { type: 'STRING' }, responseJsonSchema: { type: 'string' } },
    });
    assert.equal(both.status, 400);
  });
});

describe('streamGenerateContent?alt=sse', () => {
  test('text over several events, usage cumulative, finishReason only on the last, no [DONE]', async () => {
    const { raw, events } = await stream('sim-chat', { contents: [user('Stream please.')] }, { 'x-sim-tokens': '21' });
    assert.ok(!raw.includes('[DONE]'));
    assert.equal(events.length, 6);
    assert.deepEqual(events.map((e) => e.candidates![0]!.finishReason ?? null), [null, null, null, null, null, 'STOP']);
    const joined = events.map((e) => text(e)).join('');
    assert.equal(encode(joined).length, 21);
    assert.deepEqual(events.map((e) => e.usageMetadata.candidatesTokenCount), [4, 8, 12, 16, 20, 21]);
  });

  test('without alt=sse the simulator says it serves SSE only', async () => {
    const response = await fetch(`${base}/sim-chat:streamGenerateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
      body: JSON.stringify({ contents: [user('Hi')] }),
    });
    assert.equal(response.status, 400);
  });
});

describe('faults', () => {
  test('429 carries RetryInfo and no Retry-After header; the model suffix works like the header', async () => {
    const response = await fetch(`${base}/${encodeURIComponent('sim-chat@fault=429:7')}:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
      body: JSON.stringify({ contents: [user('Hi')] }),
    });
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), null);
    const body = (await response.json()) as { error: { status: string; details: Array<Record<string, unknown>> } };
    assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
    assert.deepEqual(body.error.details.find((d) => String(d['@type']).endsWith('RetryInfo')), { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '7s' });
  });

  test('502 and a bad fault spec', async () => {
    assert.equal((await post('sim-chat:generateContent', { contents: [user('Hi')] }, { 'x-sim-fault': '502' })).status, 502);
    const bad = await post('sim-chat:generateContent', { contents: [user('Hi')] }, { 'x-sim-fault': 'teapot' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error!.message, /x-sim-fault/);
  });

  test('503 and 529 (overloaded) answer 503 UNAVAILABLE; reset closes the connection before any byte', async () => {
    for (const fault of ['503', '529']) {
      const { status, json } = await post('sim-chat:generateContent', { contents: [user('Hi')] }, { 'x-sim-fault': fault });
      assert.equal(status, 503);
      assert.equal(json.error!.status, 'UNAVAILABLE');
    }
    await assert.rejects(post('sim-chat:generateContent', { contents: [user('Hi')] }, { 'x-sim-fault': 'reset' }));
  });

  test('slow-first-byte delays the answer; slow-loris spaces the stream events out', async () => {
    let started = Date.now();
    assert.equal((await post('sim-chat:generateContent', { contents: [user('Hi')] }, { 'x-sim-fault': 'slow-first-byte:120' })).status, 200);
    assert.ok(Date.now() - started >= 100);
    started = Date.now();
    const { events } = await stream('sim-chat', { contents: [user('Hi')] }, { 'x-sim-fault': 'slow-loris:40', 'x-sim-tokens': '12' });
    assert.equal(events.length, 3);
    assert.ok(Date.now() - started >= 70);
  });

  test('a refused prompt streams one event with promptFeedback.blockReason', async () => {
    const { events } = await stream('sim-chat', { contents: [user('Hi')] }, { 'x-sim-fault': 'refusal' });
    assert.equal(events.length, 1);
    assert.equal(events[0]!.promptFeedback!.blockReason, 'SAFETY');
    assert.equal(events[0]!.candidates, undefined);
  });

  test('cut: two events and the connection ends, never a finishReason', async () => {
    const { events, error } = await stream('sim-chat', { contents: [user('Hi')] }, { 'x-sim-fault': 'cut:2', 'x-sim-tokens': '40' });
    assert.ok(error !== undefined || events.length === 2);
    assert.ok(events.every((e) => e.candidates![0]!.finishReason === undefined));
  });

  test('error-event: an in-band {"error":...} ends the stream; without streaming it is a 500', async () => {
    const { events } = await stream('sim-chat', { contents: [user('Hi')] }, { 'x-sim-fault': 'error-event:1', 'x-sim-tokens': '40' });
    assert.equal(events.length, 2);
    assert.equal(events[1]!.error!.status, 'INTERNAL');
    assert.equal((await post('sim-chat:generateContent', { contents: [user('Hi')] }, { 'x-sim-fault': 'error-event' })).status, 500);
  });

  test('malformed: one event is not JSON', async () => {
    const response = await fetch(`${base}/sim-chat:streamGenerateContent?alt=sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY, 'x-sim-fault': 'malformed:1', 'x-sim-tokens': '12' },
      body: JSON.stringify({ contents: [user('Hi')] }),
    });
    const blocks = (await response.text()).split('\r\n\r\n').filter((b) => b.startsWith('data: '));
    assert.throws(() => blocks.forEach((b) => JSON.parse(b.slice(6))));
  });
});

describe('batchEmbedContents', () => {
  test('one vector per request in order, shortened by outputDimensionality', async () => {
    const response = await fetch(`${base}/sim-embed:batchEmbedContents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
      body: JSON.stringify({
        requests: [
          { model: 'models/sim-embed', content: { parts: [{ text: 'red apple' }] }, outputDimensionality: 8 },
          { model: 'models/sim-embed', content: { parts: [{ text: 'green pear' }] }, outputDimensionality: 8 },
        ],
      }),
    });
    const body = (await response.json()) as { embeddings: Array<{ values: number[] }> };
    assert.equal(body.embeddings.length, 2);
    assert.ok(body.embeddings.every((e) => e.values.length === 8));
    assert.notDeepEqual(body.embeddings[0], body.embeddings[1]);
  });
});
