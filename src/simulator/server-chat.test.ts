// The official openai SDK against the simulator over a real socket. Every body is also checked
// against OpenAI's own OpenAPI schemas, which is what "fidelity to the wire format" means here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { encode } from 'gpt-tokenizer';
import OpenAI from 'openai';
import { assertMatchesSchema } from '../../test/support/openapi.js';
import { startSimulator, type RunningSimulator } from './index.js';

const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WEATHER_TOOL = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 2 },
        unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
        days: { type: 'integer', minimum: 1, maximum: 7 },
        when: { type: 'string', format: 'date-time' },
      },
      required: ['city', 'unit', 'days'],
      additionalProperties: false,
    },
  },
};

let sim: RunningSimulator;
let client: OpenAI;
const ajv = new Ajv({ strict: false });

before(async () => {
  sim = await startSimulator({ pacing: 'instant' });
  client = new OpenAI({ baseURL: sim.url, apiKey: 'x', maxRetries: 0 });
});
after(async () => sim.close());

describe('chat completions', () => {
  test('plain completion matches the OpenAPI schema and counts tokens like gpt-tokenizer', async () => {
    const { data, response } = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'Say hello.' }] }).withResponse();
    assertMatchesSchema('CreateChatCompletionResponse', data);
    assert.match(data.id, /^chatcmpl-/);
    assert.equal(data.model, 'sim-chat');
    const content = data.choices[0]!.message.content!;
    assert.equal(data.choices[0]!.finish_reason, 'stop');
    assert.equal(data.choices[0]!.message.refusal, null);
    assert.equal(data.usage!.completion_tokens, encode(content).length);
    assert.equal(data.usage!.total_tokens, data.usage!.prompt_tokens + data.usage!.completion_tokens);
    assert.match(response.headers.get('x-request-id')!, /^req_/);
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '10000');
  });

  test('streaming with usage: one chunk per token, usage matches the concatenated text', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-chat',
      messages: [{ role: 'user', content: 'Stream please.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      chunks.push(chunk);
    }
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '', refusal: null });
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    const text = contentChunks.map((c) => c.choices[0]!.delta.content).join('');
    const last = chunks.at(-1)!;
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage!.completion_tokens, contentChunks.length);
    assert.equal(last.usage!.completion_tokens, encode(text).length);
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
    assert.ok(chunks.slice(0, -1).every((c) => c.usage === null), 'every chunk but the last carries "usage": null');
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
  });

  test('the raw stream ends with data: [DONE] and uses text/event-stream', async () => {
    const res = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const text = await res.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    assert.ok(!text.includes('"usage"'), 'no usage field without include_usage');
  });

  test('tools: arguments parse and satisfy the schema, streamed the way OpenAI streams them', async () => {
    const validate = ajv.compile(WEATHER_TOOL.function.parameters);
    const done = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'Weather?' }], tools: [WEATHER_TOOL] });
    assertMatchesSchema('CreateChatCompletionResponse', done);
    const call = done.choices[0]!.message.tool_calls![0]!;
    assert.equal(done.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(done.choices[0]!.message.content, null);
    assert.ok(call.type === 'function');
    assert.match(call.id, /^call_[A-Za-z0-9]{24}$/);
    assert.ok(validate(JSON.parse(call.function.arguments)), ajv.errorsText(validate.errors));

    const stream = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'Weather?' }], tools: [WEATHER_TOOL], stream: true });
    const deltas: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      deltas.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(Object.keys(deltas[0]!).sort(), ['function', 'id', 'index', 'type']);
    assert.equal(deltas[0]!.function!.arguments, '');
    assert.ok(deltas.slice(1).every((d) => d.id === undefined && d.function?.name === undefined && d.index === 0));
    const args = deltas.map((d) => d.function?.arguments ?? '').join('');
    assert.ok(validate(JSON.parse(args)), ajv.errorsText(validate.errors));
  });

  test('after a tool result the model answers in words; tool_choice "none" never calls', async () => {
    const answer = await client.chat.completions.create({
      model: 'sim-chat',
      tools: [WEATHER_TOOL],
      messages: [
        { role: 'user', content: 'Weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp": 21}' },
      ],
    });
    assert.equal(answer.choices[0]!.finish_reason, 'stop');
    assert.ok(answer.choices[0]!.message.content!.length > 0);
    const none = await client.chat.completions.create({ model: 'sim-chat', tools: [WEATHER_TOOL], tool_choice: 'none', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(none.choices[0]!.message.tool_calls, undefined);
  });

  test('json_schema output validates against the given schema; json_object parses', async () => {
    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 4 }, score: { type: 'number', minimum: 0, maximum: 1 } },
      required: ['title', 'tags', 'score'],
      additionalProperties: false,
    };
    const result = await client.chat.completions.create({
      model: 'sim-chat',
      messages: [{ role: 'user', content: 'Summarise.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'summary', schema, strict: true } },
    });
    const validate = ajv.compile(schema);
    assert.ok(validate(JSON.parse(result.choices[0]!.message.content!)), ajv.errorsText(validate.errors));
    const object = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'JSON' }], response_format: { type: 'json_object' } });
    assert.equal(typeof JSON.parse(object.choices[0]!.message.content!), 'object');
  });

  test('the same seed gives the same answer', async () => {
    const ask = () => client.chat.completions.create({ model: 'sim-chat', seed: 1234, messages: [{ role: 'user', content: 'Repeat after me.' }] });
    const [a, b] = await Promise.all([ask(), ask()]);
    assert.equal(a.choices[0]!.message.content, b.choices[0]!.message.content);
    assert.notEqual(a.id, b.id);
  });

  test('max_tokens, stop, n and logprobs', async () => {
    const short = await client.chat.completions.create({ model: 'sim-chat', max_completion_tokens: 3, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(short.choices[0]!.finish_reason, 'length');
    assert.equal(short.usage!.completion_tokens, 3);
    const stopped = await client.chat.completions.create({ model: 'sim-chat', stop: ['.'], seed: 5, messages: [{ role: 'user', content: 'x' }] });
    assert.ok(!stopped.choices[0]!.message.content!.includes('.'));
    assert.equal(stopped.choices[0]!.finish_reason, 'stop');
    const many = await client.chat.completions.create({ model: 'sim-chat', n: 3, logprobs: true, top_logprobs: 2, messages: [{ role: 'user', content: 'x' }] });
    assertMatchesSchema('CreateChatCompletionResponse', many);
    assert.equal(many.choices.length, 3);
    const logprobs = many.choices[0]!.logprobs!.content!;
    assert.equal(logprobs.length, encode(many.choices[0]!.message.content!).length);
    assert.ok(logprobs.every((l) => l.logprob <= 0 && l.top_logprobs.length === 2 && Buffer.from(l.bytes!).toString() === l.token));
  });

  test('x-sim-tokens fixes the answer length', async () => {
    const result = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-sim-tokens': '123' } });
    assert.equal(result.usage!.completion_tokens, 123);
  });
});

describe('input checks answer like OpenAI', () => {
  test('an image sent to a text-only model is a 400 naming the part', async () => {
    const error = await client.chat.completions
      .create({ model: 'sim-chat', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: PNG } }] }] })
      .catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assertMatchesSchema('ErrorResponse', { error: error.error });
    assert.equal(error.message, '400 Invalid content type. image_url is only supported by certain models.');
    assert.equal(error.param, 'messages.[0].content.[1].type');
    assert.equal(error.type, 'invalid_request_error');
  });

  test('the vision model accepts the image and bills 85 tokens for it', async () => {
    const text = await client.chat.completions.create({ model: 'sim-vision', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }] }] });
    const image = await client.chat.completions.create({ model: 'sim-vision', messages: [{ role: 'user', content: [{ type: 'text', text: 'What is it?' }, { type: 'image_url', image_url: { url: PNG } }] }] });
    assert.equal(image.usage!.prompt_tokens - text.usage!.prompt_tokens, 85);
  });

  test('a prompt over the context length is context_length_exceeded', async () => {
    const error = await client.chat.completions.create({ model: 'sim-small', messages: [{ role: 'user', content: 'lorem ipsum '.repeat(3000) }] }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.equal(error.code, 'context_length_exceeded');
    assert.equal(error.param, 'messages');
    assert.match(error.message, /^400 This model's maximum context length is 4096 tokens\. However, your messages resulted in \d+ tokens\./);
  });

  test('an unknown model is a 404 model_not_found', async () => {
    const error = await client.chat.completions.create({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.equal(error.code, 'model_not_found');
  });

  test('invalid JSON and missing messages are 400s in the OpenAI envelope', async () => {
    const post = (body: string) => fetch(`${sim.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const broken = await post('{"model": "sim-chat", ');
    assert.equal(broken.status, 400);
    const brokenBody = (await broken.json()) as { error: { message: string; type: string } };
    assertMatchesSchema('ErrorResponse', brokenBody);
    assert.match(brokenBody.error.message, /^We could not parse the JSON body of your request/);
    const missing = await post('{"model": "sim-chat"}');
    assert.equal(missing.status, 400);
    assert.deepEqual(await missing.json(), {
      error: { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter' },
    });
  });

  test('stream_options without stream, bad n and an unknown route answer OpenAI errors', async () => {
    const withOptions = await client.chat.completions
      .create({ model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: true } })
      .catch((e: unknown) => e);
    assert.ok(withOptions instanceof OpenAI.BadRequestError);
    assert.equal(withOptions.param, 'stream_options');
    const tooMany = await client.chat.completions.create({ model: 'sim-chat', n: 500, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    assert.ok(tooMany instanceof OpenAI.BadRequestError);
    assert.equal(tooMany.code, 'integer_above_max_value');
    const route = await fetch(`${sim.url}/completions/nope`, { method: 'POST' });
    assert.equal(route.status, 404);
    assert.deepEqual(await route.json(), { error: { message: 'Invalid URL (POST /v1/completions/nope)', type: 'invalid_request_error', param: null, code: null } });
  });

  test('unknown extra fields are ignored', async () => {
    const result = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], top_k: 5, repetition_penalty: 1.1 } as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
    assert.equal(result.object, 'chat.completion');
  });

  test('with an api key configured, a missing or wrong key is a 401', async () => {
    const locked = await startSimulator({ pacing: 'instant', apiKey: 'sk-secret' });
    try {
      const wrong = new OpenAI({ baseURL: locked.url, apiKey: 'sk-wrong-key-123', maxRetries: 0 });
      const error = await wrong.models.list().catch((e: unknown) => e);
      assert.ok(error instanceof OpenAI.AuthenticationError);
      assert.equal(error.code, 'invalid_api_key');
      const right = new OpenAI({ baseURL: locked.url, apiKey: 'sk-secret', maxRetries: 0 });
      assert.ok((await right.models.list()).data.length > 0);
    } finally {
      await locked.close();
    }
  });
});

describe('models and embeddings', () => {
  test('GET /v1/models lists the catalog; GET /v1/models/{id} answers one or 404', async () => {
    const models = await client.models.list();
    assertMatchesSchema('ListModelsResponse', { object: 'list', data: models.data });
    assert.deepEqual(models.data.map((m) => m.id).sort(), ['sim-chat', 'sim-embed', 'sim-small', 'sim-vision']);
    const one = await client.models.retrieve('sim-vision');
    assert.equal(one.id, 'sim-vision');
    await assert.rejects(client.models.retrieve('nope'), OpenAI.NotFoundError);
  });

  test('embeddings are deterministic unit vectors; base64 decodes to the same float32 values', async () => {
    const floats = await client.embeddings.create({ model: 'sim-embed', input: ['the quick brown fox', 'hello'], encoding_format: 'float' });
    assertMatchesSchema('CreateEmbeddingResponse', floats);
    assert.equal(floats.data.length, 2);
    const vector = floats.data[0]!.embedding;
    assert.equal(vector.length, 256);
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-6);
    assert.equal(floats.usage.prompt_tokens, encode('the quick brown fox').length + encode('hello').length);
    // The SDK asks for base64 by default and decodes little-endian float32 itself.
    const decoded = await client.embeddings.create({ model: 'sim-embed', input: 'the quick brown fox' });
    assert.deepEqual(decoded.data[0]!.embedding, vector);
    const short = await client.embeddings.create({ model: 'sim-embed', input: 'the quick brown fox', dimensions: 64, encoding_format: 'float' });
    assert.equal(short.data[0]!.embedding.length, 64);
  });

  test('similar texts embed closer than unrelated ones', async () => {
    const result = await client.embeddings.create({ model: 'sim-embed', input: ['the cat sat on the mat', 'the cat sat on a mat', 'stock market report'], encoding_format: 'float' });
    const [a, b, c] = result.data.map((d) => d.embedding) as [number[], number[], number[]];
    const cosine = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0);
    assert.ok(cosine(a, b) > cosine(a, c));
  });

  test('a chat model on /v1/embeddings and an embedding model on chat are refused', async () => {
    await assert.rejects(client.embeddings.create({ model: 'sim-chat', input: 'x' }), OpenAI.BadRequestError);
    await assert.rejects(client.chat.completions.create({ model: 'sim-embed', messages: [{ role: 'user', content: 'x' }] }), OpenAI.NotFoundError);
  });
});
