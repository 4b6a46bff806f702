// The official openai SDK against a running gateway over real sockets, with the simulator as the
// upstream. Every body the SDK receives is also checked against OpenAI's OpenAPI schemas.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { encode } from 'gpt-tokenizer';
import { Ajv } from 'ajv';
import { configFrom, startStack, type Stack } from './support/stack.js';
import { assertMatchesSchema } from './support/openapi.js';
import { SIM_MODELS } from '../src/simulator/models.js';

// A tiny red PNG, as a data URL, for image input.
const PNG = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';

let stack: Stack;
let client: OpenAI;

function stackConfig(simulatorUrl: string) {
  const sim = (id: string) => SIM_MODELS.find((m) => m.id === id)!;
  const chatModel = (id: string, deployment: string) => ({
    deployments: [deployment],
    context_length: sim(id).context_length,
    input_modalities: sim(id).input_modalities,
  });
  return configFrom({
    providers: { sim: { base_url: simulatorUrl } },
    deployments: {
      'sim-chat-a': { provider: 'sim', model: 'sim-chat' },
      'sim-vision-a': { provider: 'sim', model: 'sim-vision' },
      'sim-embed-a': { provider: 'sim', model: 'sim-embed' },
      'limited-a': { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': '429:47' } },
      'broken-a': { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': '500' } },
      'overloaded-a': { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': '503' } },
    },
    models: {
      'sim-chat': chatModel('sim-chat', 'sim-chat-a'),
      'sim-vision': chatModel('sim-vision', 'sim-vision-a'),
      'sim-embed': { type: 'embedding', deployments: ['sim-embed-a'], context_length: 8191 },
      limited: chatModel('sim-chat', 'limited-a'),
      broken: chatModel('sim-chat', 'broken-a'),
      overloaded: chatModel('sim-chat', 'overloaded-a'),
      'text-strict': { ...chatModel('sim-chat', 'sim-chat-a'), reroute: 'off' },
    },
  });
}

before(async () => {
  stack = await startStack({ config: stackConfig });
  client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
});
after(async () => stack.close());

describe('chat completions through the openai SDK', () => {
  test('plain completion: content, usage, public model name and identifying headers', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'sim-chat', messages: [{ role: 'user', content: 'Say hello.' }] })
      .withResponse();
    assertMatchesSchema('CreateChatCompletionResponse', data);
    assert.equal(data.model, 'sim-chat');
    assert.ok(data.choices[0]!.message.content!.length > 0);
    assert.equal(data.usage!.completion_tokens, encode(data.choices[0]!.message.content!).length);
    assert.match(response.headers.get('x-request-id') ?? '', /^req_[0-9a-f]{32}$/);
    assert.equal(response.headers.get('x-floodgate-deployment'), 'sim-chat-a');
  });

  test('streaming with include_usage: every chunk is valid, usage matches the streamed text', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-chat',
      messages: [{ role: 'user', content: 'Tell me a story.' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      assert.equal(chunk.model, 'sim-chat');
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(chunks > 3);
    assert.equal(finish, 'stop');
    assert.ok(text.length > 0);
    assert.ok(usage, 'the last chunk carries usage');
    assert.equal(usage.completion_tokens, encode(text).length);
    assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
  });

  test('streaming without include_usage carries no usage at all, as OpenAI does', async () => {
    const stream = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'Hi' }], stream: true });
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      assert.equal(chunk.usage, undefined);
      assert.ok(chunk.choices.length > 0, 'no usage-only chunk');
    }
    assert.ok(chunks > 3);
  });

  const weatherTool: OpenAI.ChatCompletionTool = {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Weather for a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] }, days: { type: 'integer', minimum: 1, maximum: 7 } },
        required: ['city', 'unit', 'days'],
        additionalProperties: false,
      },
    },
  };

  test('tools: a tool call whose arguments satisfy the schema', async () => {
    const completion = await client.chat.completions.create({
      model: 'sim-chat',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      tools: [weatherTool],
    });
    assertMatchesSchema('CreateChatCompletionResponse', completion);
    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    const call = choice.message.tool_calls![0]!;
    assert.equal(call.type, 'function');
    assert.ok(call.type === 'function' && call.function.name === 'get_weather');
    const validate = new Ajv().compile(weatherTool.function.parameters!);
    assert.ok(call.type === 'function' && validate(JSON.parse(call.function.arguments)), 'arguments match the schema');
  });

  test('tools streamed as deltas assemble into the same kind of call, then a tool result gets text', async () => {
    const stream = await client.chat.completions.create({
      model: 'sim-chat',
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
      tools: [weatherTool],
      stream: true,
    });
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    for await (const chunk of stream) {
      assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
      for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { args: '' };
        call.id ??= delta.id;
        call.name ??= delta.function?.name;
        call.args += delta.function?.arguments ?? '';
        calls.set(delta.index, call);
      }
    }
    const call = calls.get(0)!;
    assert.equal(call.name, 'get_weather');
    assert.match(call.id!, /^call_/);
    assert.ok(new Ajv().compile(weatherTool.function.parameters!)(JSON.parse(call.args)));

    const followUp = await client.chat.completions.create({
      model: 'sim-chat',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        { role: 'assistant', content: null, tool_calls: [{ id: call.id!, type: 'function', function: { name: call.name!, arguments: call.args } }] },
        { role: 'tool', tool_call_id: call.id!, content: '{"temperature": 4}' },
      ],
    });
    assert.equal(followUp.choices[0]!.finish_reason, 'stop');
    assert.ok(followUp.choices[0]!.message.content);
  });

  test('JSON mode: json_object parses and json_schema output validates', async () => {
    const object = await client.chat.completions.create({
      model: 'sim-chat',
      messages: [{ role: 'user', content: 'Give me JSON.' }],
      response_format: { type: 'json_object' },
    });
    const parsed: unknown = JSON.parse(object.choices[0]!.message.content!);
    assert.equal(typeof parsed, 'object');

    const schema = {
      type: 'object',
      properties: { title: { type: 'string' }, tags: { type: 'array', items: { type: 'string' }, minItems: 1 }, rating: { type: 'number', minimum: 0, maximum: 5 } },
      required: ['title', 'tags', 'rating'],
      additionalProperties: false,
    };
    const structured = await client.chat.completions.create({
      model: 'sim-chat',
      messages: [{ role: 'user', content: 'Review a book.' }],
      response_format: { type: 'json_schema', json_schema: { name: 'review', schema, strict: true } },
    });
    assert.ok(new Ajv().compile(schema)(JSON.parse(structured.choices[0]!.message.content!)));
  });

  test('seed makes output deterministic; other parameters are accepted', async () => {
    const ask = () =>
      client.chat.completions.create({
        model: 'sim-chat',
        messages: [{ role: 'user', content: 'Same question' }],
        seed: 42, temperature: 0.3, top_p: 0.9, max_tokens: 12, n: 2, stop: ['zzz'], user: 'tester', logprobs: true, top_logprobs: 2,
      });
    const [a, b] = await Promise.all([ask(), ask()]);
    assertMatchesSchema('CreateChatCompletionResponse', a);
    assert.equal(a.choices.length, 2);
    assert.deepEqual(a.choices.map((c) => c.message.content), b.choices.map((c) => c.message.content));
    assert.ok(a.usage!.completion_tokens <= 24, 'max_tokens applies per choice');
    assert.ok(a.choices[0]!.logprobs?.content?.length);
  });

  test('image input: a vision model answers; a text-only model reroutes, or refuses naming vision models when rerouting is off', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: [{ type: 'text', text: 'What is in this image?' }, { type: 'image_url', image_url: { url: PNG } }] },
    ];
    const seen = await client.chat.completions.create({ model: 'sim-vision', messages });
    assert.ok(seen.choices[0]!.message.content);

    const { data, response } = await client.chat.completions.create({ model: 'sim-chat', messages }).withResponse();
    assert.equal(data.model, 'sim-vision', 'the model field names the model that answered');
    assert.equal(response.headers.get('x-floodgate-rerouted'), 'vision');
    assert.equal(response.headers.get('x-floodgate-deployment'), 'sim-vision-a');
    assertMatchesSchema('CreateChatCompletionResponse', data);

    await assert.rejects(client.chat.completions.create({ model: 'text-strict', messages }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.code, 'image_input_not_supported');
      assert.match(error.message, /'text-strict' does not accept image input.*Rerouting is turned off.*Models that accept images: sim-vision\./);
      assertMatchesSchema('ErrorResponse', error.error === undefined ? {} : { error: error.error });
      return true;
    });
  });
});

test('a request with several megabytes of images fits the default body limit', async () => {
  const image = `data:image/png;base64,${Buffer.alloc(3 * 1024 * 1024, 7).toString('base64')}`;
  const parts: OpenAI.ChatCompletionContentPart[] = [
    { type: 'text', text: 'Compare these.' },
    { type: 'image_url', image_url: { url: image } },
    { type: 'image_url', image_url: { url: image } },
  ];
  const reply = await client.chat.completions.create({ model: 'sim-vision', messages: [{ role: 'user', content: parts }] });
  assert.ok(reply.choices[0]!.message.content);
  assert.ok(reply.usage!.prompt_tokens > 170, 'both images counted');
});

describe('models and embeddings through the openai SDK', () => {
  test('models list carries OpenAI fields and capability metadata', async () => {
    const page = await client.models.list();
    const models = page.data;
    assertMatchesSchema('ListModelsResponse', { object: 'list', data: models });
    const ids = models.map((m) => m.id);
    assert.ok(ids.includes('sim-chat') && ids.includes('sim-vision') && ids.includes('sim-embed'));
    const vision = (await client.models.retrieve('sim-vision')) as OpenAI.Model & {
      context_length: number; architecture: { input_modalities: string[]; output_modalities: string[] }; supported_parameters: string[];
    };
    assertMatchesSchema('Model', vision);
    assert.equal(vision.context_length, 131_072);
    assert.deepEqual(vision.architecture.input_modalities, ['text', 'image']);
    assert.deepEqual(vision.architecture.output_modalities, ['text']);
    assert.ok(vision.supported_parameters.includes('tools'));
    const chat = (await client.models.retrieve('sim-chat')) as unknown as { architecture: { input_modalities: string[] } };
    assert.deepEqual(chat.architecture.input_modalities, ['text']);
  });

  test('embeddings, float and base64 (the SDK default), decode to the same unit vectors', async () => {
    const floats = await client.embeddings.create({ model: 'sim-embed', input: ['alpha', 'beta'], encoding_format: 'float' });
    assertMatchesSchema('CreateEmbeddingResponse', floats);
    assert.equal(floats.model, 'sim-embed');
    assert.equal(floats.data.length, 2);
    const vector = floats.data[0]!.embedding;
    assert.equal(vector.length, 256);
    assert.ok(Math.abs(Math.hypot(...vector) - 1) < 1e-3);
    const viaBase64 = await client.embeddings.create({ model: 'sim-embed', input: ['alpha', 'beta'] });
    viaBase64.data[0]!.embedding.forEach((x, i) => assert.ok(Math.abs(x - vector[i]!) < 1e-6));
    assert.ok(floats.usage.prompt_tokens > 0);
  });
});

describe('typed errors from the openai SDK', () => {
  test('unknown model -> NotFoundError with code model_not_found', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.NotFoundError);
      assert.equal(error.code, 'model_not_found');
      assert.equal(error.param, 'model');
      return true;
    });
  });

  test('schema violation -> BadRequestError naming the param', async () => {
    await assert.rejects(
      client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], temperature: 7 }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'temperature',
    );
  });

  test('an embedding model on chat -> BadRequestError; a chat model on embeddings -> BadRequestError', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'sim-embed', messages: [{ role: 'user', content: 'x' }] }), OpenAI.BadRequestError);
    await assert.rejects(client.embeddings.create({ model: 'sim-chat', input: 'x' }), OpenAI.BadRequestError);
  });

  test('upstream 429 -> RateLimitError with Retry-After naming the deployment', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'limited', messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.RateLimitError);
      assert.equal(error.headers?.get('retry-after'), '47');
      assert.match(error.message, /limited-a/);
      return true;
    });
  });

  test('upstream 500 -> 502 InternalServerError; upstream 503 -> 503; neither leaks the upstream URL', async () => {
    for (const [model, status] of [['broken', 502], ['overloaded', 503]] as const) {
      await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.InternalServerError);
        assert.equal(error.status, status);
        assert.match(error.message, new RegExp(`${model}-a`));
        assert.ok(!error.message.includes('127.0.0.1') && !error.message.includes(stack.simulatorUrl));
        return true;
      });
    }
  });
});
