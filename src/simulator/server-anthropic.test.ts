// The simulator's Anthropic front end (POST /v1/messages) over real sockets: answers, streams,
// tools, images, validation, authentication and every fault, in Anthropic's wire format.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { encode } from 'gpt-tokenizer';
import { Ajv } from 'ajv';
import { SSEDecoder } from '../providers/sse.js';
import { startSimulator, type RunningSimulator } from './index.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test bodies are read loosely

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['city', 'days'] },
};

let sim: RunningSimulator;
let keyed: RunningSimulator;

before(async () => {
  sim = await startSimulator({ pacing: 'instant' });
  keyed = await startSimulator({ pacing: 'instant', apiKey: 'sk-ant-test-key' });
});
after(async () => {
  await sim.close();
  await keyed.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Obj;
}

async function post(body: Obj, headers: Record<string, string> = {}, target = sim): Promise<Reply> {
  const res = await request(`${target.url.replace(/\/v1$/, '')}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify({ model: 'sim-chat', max_tokens: 512, messages: [{ role: 'user', content: 'Hello there.' }], ...body }),
  });
  const text = await res.body.text();
  let json: Obj = {};
  try {
    json = JSON.parse(text) as Obj;
  } catch {
    // streams and broken bodies are read from `text`
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

function events(text: string): Obj[] {
  return new SSEDecoder().push(Buffer.from(text)).map((e) => ({ name: e.event, ...(JSON.parse(e.data) as Obj) }));
}

function assertError(reply: Reply, status: number, type: string, message?: RegExp): void {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.json.type, 'error');
  assert.equal(reply.json.error.type, type);
  if (message) assert.match(reply.json.error.message, message);
  assert.equal(reply.json.request_id, reply.headers['request-id'], 'the body repeats the request-id header');
}

describe('answers', () => {
  test('a message: id, text, end_turn, usage counted like the text, request-id and rate-limit headers', async () => {
    const reply = await post({ system: [{ type: 'text', text: 'Be kind.' }] }, { 'x-sim-tokens': '12' });
    assert.equal(reply.status, 200);
    const message = reply.json;
    assert.match(message.id, /^msg_01[A-Za-z0-9]{22}$/);
    assert.deepEqual([message.type, message.role, message.model, message.stop_reason, message.stop_sequence], ['message', 'assistant', 'sim-chat', 'end_turn', null]);
    assert.equal(message.content.length, 1);
    assert.equal(message.content[0].type, 'text');
    assert.equal(message.usage.output_tokens, 12);
    assert.equal(encode(message.content[0].text).length, 12);
    assert.ok(message.usage.input_tokens > 5);
    assert.match(String(reply.headers['request-id']), /^req_/);
    assert.equal(reply.headers['anthropic-ratelimit-requests-limit'], '10000');
    assert.match(String(reply.headers['anthropic-ratelimit-requests-reset']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('max_tokens cuts the answer with stop_reason max_tokens', async () => {
    const reply = await post({ max_tokens: 5 }, { 'x-sim-tokens': '40' });
    assert.equal(reply.json.stop_reason, 'max_tokens');
    assert.equal(reply.json.usage.output_tokens, 5);
  });

  test('a stop sequence ends the text before it and is reported', async () => {
    const reply = await post({ stop_sequences: ['zzz', 'e'] }, { 'x-sim-tokens': '40' });
    assert.equal(reply.json.stop_reason, 'stop_sequence');
    assert.equal(reply.json.stop_sequence, 'e');
    assert.ok(!(reply.json.content[0]?.text ?? '').includes('e'));
  });

  test('a stream: documented event order, deltas add up to the text, usage counts them', async () => {
    const reply = await post({ stream: true }, { 'x-sim-tokens': '15' });
    assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
    const all = events(reply.text);
    assert.deepEqual(all.map((e) => e.type).filter((t) => t !== 'content_block_delta'), [
      'message_start', 'content_block_start', 'ping', 'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const deltas = all.filter((e) => e.type === 'content_block_delta');
    assert.equal(deltas.length, 15);
    assert.ok(deltas.every((d) => d.index === 0 && d.delta.type === 'text_delta'));
    const end = all.find((e) => e.type === 'message_delta')!;
    assert.deepEqual(end.delta, { stop_reason: 'end_turn', stop_sequence: null });
    assert.equal(end.usage.output_tokens, 15);
    assert.equal(all[0]!.message.usage.input_tokens, end.usage.input_tokens);
  });
});

describe('tools', () => {
  test('tool_choice any: a tool_use block whose input satisfies the schema', async () => {
    const reply = await post({ tools: [weather], tool_choice: { type: 'any' } });
    assert.equal(reply.json.stop_reason, 'tool_use');
    const block = reply.json.content[0];
    assert.equal(block.type, 'tool_use');
    assert.match(block.id, /^toolu_01[A-Za-z0-9]{22}$/);
    assert.equal(block.name, 'get_weather');
    assert.ok(new Ajv().compile(weather.input_schema)(block.input), JSON.stringify(block.input));
  });

  test('streamed tool input arrives as input_json_delta fragments that parse to a valid input', async () => {
    const all = events((await post({ tools: [weather], tool_choice: { type: 'tool', name: 'get_weather' }, stream: true })).text);
    const start = all.find((e) => e.type === 'content_block_start')!;
    assert.deepEqual(start.content_block.input, {});
    const json = all.filter((e) => e.type === 'content_block_delta').map((e) => e.delta.partial_json as string).join('');
    assert.ok(new Ajv().compile(weather.input_schema)(JSON.parse(json)));
    assert.equal(all.find((e) => e.type === 'message_delta')!.delta.stop_reason, 'tool_use');
  });

  test('a tool result gets a text answer; results must answer the previous turn\'s tool_use ids', async () => {
    const history = (...resultIds: string[]) => [
      { role: 'user', content: 'Weather in Oslo?' },
      { role: 'assistant', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_a', name: 'get_weather', input: { city: 'Oslo', days: 1 } }] },
      { role: 'user', content: resultIds.map((id) => ({ type: 'tool_result', tool_use_id: id, content: [{ type: 'text', text: '12 C' }] })) },
    ];
    const answered = await post({ tools: [weather], messages: history('toolu_a') });
    assert.equal(answered.json.stop_reason, 'end_turn');
    assert.equal(answered.json.content[0].type, 'text');
    assertError(await post({ tools: [weather], messages: history('toolu_a', 'toolu_b') }), 400, 'invalid_request_error', /unexpected `tool_use_id` found in `tool_result` blocks: toolu_b/);
    const unanswered = [...history('toolu_a').slice(0, 2), { role: 'user', content: 'Never mind.' }];
    assertError(await post({ tools: [weather], messages: unanswered }), 400, 'invalid_request_error', /^messages\.2: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_a/);
  });
});

describe('images', () => {
  const withImages = [
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    { type: 'text', text: 'What are these?' },
  ];

  test('a vision model takes base64 and url images and counts them as input', async () => {
    const plain = await post({ model: 'sim-vision', messages: [{ role: 'user', content: 'What are these?' }] });
    const reply = await post({ model: 'sim-vision', messages: [{ role: 'user', content: withImages }] });
    assert.equal(reply.status, 200);
    assert.equal(reply.json.usage.input_tokens, plain.json.usage.input_tokens + 2 * 85);
  });

  test('a text-only model refuses images with a 400 naming the block', async () => {
    assertError(await post({ messages: [{ role: 'user', content: withImages }] }), 400, 'invalid_request_error', /^messages\.0\.content\.0: .*does not support image input/);
  });
});

describe('validation and authentication', () => {
  test('the mistakes the real API rejects', async () => {
    assertError(await post({ max_tokens: undefined }), 400, 'invalid_request_error', /^max_tokens: Field required$/);
    assertError(await post({ n: 2 }), 400, 'invalid_request_error', /^n: Extra inputs are not permitted$/);
    assertError(await post({ temperature: 1.5 }), 400, 'invalid_request_error', /^temperature: Input should be less than or equal to 1$/);
    assertError(await post({ max_tokens: 100_000 }), 400, 'invalid_request_error', /^max_tokens: 100000 > 4096/);
    assertError(await post({ messages: [] }), 400, 'invalid_request_error', /at least one message/);
    assertError(await post({ messages: [{ role: 'system', content: 'x' }] }), 400, 'invalid_request_error', /^messages\.0\.role: Input should be 'user' or 'assistant'$/);
    assertError(await post({ messages: [{ role: 'user', content: [{ type: 'text', text: '' }] }] }), 400, 'invalid_request_error', /text content blocks must be non-empty/);
    assertError(await post({ tool_choice: { type: 'any' } }), 400, 'invalid_request_error', /tool_choice/);
    assertError(await post({ model: 'claude-nope' }), 404, 'not_found_error', /^model: claude-nope$/);
    assertError(await post({}, { 'anthropic-version': '' }), 400, 'invalid_request_error', /^anthropic-version: header is required$/);
  });

  test('x-api-key is checked when the simulator has a key; Bearer auth is not Anthropic\'s', async () => {
    assertError(await post({}, {}, keyed), 401, 'authentication_error', /x-api-key header is required/);
    assertError(await post({}, { authorization: 'Bearer sk-ant-test-key' }, keyed), 401, 'authentication_error');
    assertError(await post({}, { 'x-api-key': 'wrong' }, keyed), 401, 'authentication_error', /invalid x-api-key/);
    assert.equal((await post({}, { 'x-api-key': 'sk-ant-test-key' }, keyed)).status, 200);
  });
});

describe('faults in Anthropic shapes', () => {
  test('429 (header or model suffix): rate_limit_error with retry-after and exhausted anthropic-ratelimit-* headers', async () => {
    for (const reply of [await post({}, { 'x-sim-fault': '429:7' }), await post({ model: 'sim-chat@fault=429:7' })]) {
      assertError(reply, 429, 'rate_limit_error', /rate limit/);
      assert.equal(reply.headers['retry-after'], '7');
      assert.equal(reply.headers['anthropic-ratelimit-requests-remaining'], '0');
      const reset = Date.parse(String(reply.headers['anthropic-ratelimit-requests-reset']));
      assert.ok(reset - Date.now() > 5000 && reset - Date.now() <= 8000);
    }
  });

  test('500 api_error, 502, 503 with retry-after, 529 overloaded_error', async () => {
    assertError(await post({}, { 'x-sim-fault': '500' }), 500, 'api_error');
    assertError(await post({}, { 'x-sim-fault': '502' }), 502, 'api_error');
    const unavailable = await post({}, { 'x-sim-fault': '503:4' });
    assertError(unavailable, 503, 'api_error');
    assert.equal(unavailable.headers['retry-after'], '4');
    assertError(await post({}, { 'x-sim-fault': '529' }), 529, 'overloaded_error', /^Overloaded$/);
    assertError(await post({}, { 'x-sim-fault': 'teapot' }), 400, 'invalid_request_error', /^x-sim-fault: unknown fault kind "teapot"/);
  });

  test('refusal is a 200 with stop_reason refusal, streamed or not', async () => {
    const whole = await post({}, { 'x-sim-fault': 'refusal', 'x-sim-tokens': '30' });
    assert.equal(whole.status, 200);
    assert.equal(whole.json.stop_reason, 'refusal');
    assert.equal(whole.json.usage.output_tokens, 3);
    const streamed = events((await post({ stream: true }, { 'x-sim-fault': 'refusal' })).text);
    assert.equal(streamed.find((e) => e.type === 'message_delta')!.delta.stop_reason, 'refusal');
    assert.equal(streamed.at(-1)!.type, 'message_stop');
  });

  test('error-event: an in-band overloaded_error ends the stream; without a stream it is a 529', async () => {
    const all = events((await post({ stream: true }, { 'x-sim-fault': 'error-event:3' })).text);
    assert.equal(all.length, 4);
    assert.deepEqual(all.at(-1), { name: 'error', type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    assertError(await post({}, { 'x-sim-fault': 'error-event' }), 529, 'overloaded_error');
  });

  test('cut: the stream stops without message_stop, even when cut after its last event', async () => {
    for (const fault of ['cut:4', 'cut:1000']) {
      const res = await request(`${sim.url.replace(/\/v1$/, '')}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-sim-fault': fault },
        body: JSON.stringify({ model: 'sim-chat', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'Hi' }] }),
      });
      const text = await res.body.text().catch(() => '');
      assert.ok(!text.includes('message_stop'), fault);
    }
  });

  test('malformed: one event whose data is not JSON, then the stream carries on', async () => {
    const text = (await post({ stream: true }, { 'x-sim-fault': 'malformed:2' })).text;
    const raw = new SSEDecoder().push(Buffer.from(text));
    assert.equal(raw.filter((e) => { try { JSON.parse(e.data); return false; } catch { return true; } }).length, 1);
    assert.equal(raw.at(-1)!.event, 'message_stop');
  });

  test('reset destroys the socket before any byte; the OpenAI route answers a 529 fault too', async () => {
    await assert.rejects(post({}, { 'x-sim-fault': 'reset' }));
    const openai = await request(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-sim-fault': '529' },
      body: JSON.stringify({ model: 'sim-chat', messages: [{ role: 'user', content: 'Hi' }] }),
    });
    assert.equal(openai.statusCode, 529);
    assert.match(((await openai.body.json()) as Obj).error.message, /overloaded/);
  });
});
