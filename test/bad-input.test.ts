// Hostile and broken requests over a real socket: each gets a clear error in OpenAI's envelope,
// with the status OpenAI uses, and the process stays healthy afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { simulatedConfig } from '../src/config/simulated.js';
import { startStack, type Stack } from './support/stack.js';
import { assertMatchesSchema } from './support/openapi.js';

let stack: Stack;
const MAX_MESSAGES = 10;
const BODY_LIMIT = 1024 * 1024;

before(async () => {
  stack = await startStack({
    config: (url) => {
      const config = simulatedConfig(url);
      config.server.max_messages = MAX_MESSAGES;
      config.server.body_limit_bytes = BODY_LIMIT;
      return config;
    },
  });
});
after(async () => stack.close());

async function post(path: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  const res = await request(`${stack.gateway.url}${path}`, { method: 'POST', body, headers });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string | null } } };
}

const chat = (body: unknown) => post('/v1/chat/completions', JSON.stringify(body));

function assertEnvelope(reply: { json: unknown; text: string }, code?: string | null): void {
  assertMatchesSchema('ErrorResponse', reply.json);
  const error = (reply.json as { error: { code: string | null; message: string } }).error;
  if (code !== undefined) assert.equal(error.code, code);
  assert.ok(!/\bat .+:\d+:\d+/.test(reply.text), 'no stack trace');
}

describe('malformed bodies', () => {
  test('truncated JSON -> 400 invalid_json', async () => {
    const reply = await post('/v1/chat/completions', '{"model":"sim-chat","messages":[{"role":"us');
    assert.equal(reply.status, 400);
    assertEnvelope(reply, 'invalid_json');
    assert.equal(reply.json.error.type, 'invalid_request_error');
  });

  test('empty body, a JSON array and a bare string -> 400', async () => {
    for (const body of ['', '[1,2]', '"hi"']) {
      const reply = await post('/v1/chat/completions', body);
      assert.equal(reply.status, 400, body);
      assertEnvelope(reply, 'invalid_json');
    }
  });

  test('invalid UTF-8 -> 400 invalid_encoding, not silently replaced', async () => {
    const body = Buffer.concat([Buffer.from('{"model":"sim-chat","messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]);
    const reply = await post('/v1/chat/completions', body);
    assert.equal(reply.status, 400);
    assertEnvelope(reply, 'invalid_encoding');
  });

  test('deep nesting -> 400 nesting_too_deep', async () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const reply = await post('/v1/chat/completions', `{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"extra":${deep}}`);
    assert.equal(reply.status, 400);
    assertEnvelope(reply, 'nesting_too_deep');
  });

  test('brackets inside strings do not count as nesting', async () => {
    const reply = await chat({ model: 'sim-chat', messages: [{ role: 'user', content: '[[[[{{{{'.repeat(100) + '\\"' }] });
    assert.equal(reply.status, 200, reply.text);
  });

  test('a body over the limit -> 413', async () => {
    const reply = await chat({ model: 'sim-chat', messages: [{ role: 'user', content: 'x'.repeat(BODY_LIMIT + 10) }] });
    assert.equal(reply.status, 413);
    assertEnvelope(reply, 'request_too_large');
  });

  test('a body sent without a JSON content type is still read as JSON', async () => {
    const reply = await post('/v1/chat/completions', JSON.stringify({ model: 'sim-chat', messages: [{ role: 'user', content: 'hi' }] }), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(reply.status, 200);
  });
});

describe('schema violations name the param', () => {
  const cases: Array<[string, unknown, string, string]> = [
    ['missing messages', { model: 'sim-chat' }, 'messages', 'missing_required_parameter'],
    ['missing model', { messages: [{ role: 'user', content: 'x' }] }, 'model', 'missing_required_parameter'],
    ['messages not an array', { model: 'sim-chat', messages: 'hello' }, 'messages', 'invalid_type'],
    ['empty messages', { model: 'sim-chat', messages: [] }, 'messages', 'invalid_value'],
    ['message without role', { model: 'sim-chat', messages: [{ content: 'x' }] }, 'messages[0].role', 'missing_required_parameter'],
    ['unknown role', { model: 'sim-chat', messages: [{ role: 'wizard', content: 'x' }] }, 'messages[0].role', 'invalid_value'],
    ['content of a wrong type', { model: 'sim-chat', messages: [{ role: 'user', content: 42 }] }, 'messages[0].content', 'invalid_type'],
    ['image part without url', { model: 'sim-chat', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }, 'messages[0].content[0].image_url.url', 'missing_required_parameter'],
    ['temperature as a string', { model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, 'temperature', 'invalid_type'],
    ['temperature out of range', { model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], temperature: 3 }, 'temperature', 'invalid_value'],
    ['n = 0', { model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], n: 0 }, 'n', 'invalid_value'],
    ['max_tokens fractional', { model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], max_tokens: 1.5 }, 'max_tokens', 'invalid_type'],
    ['tool without function', { model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function' }] }, 'tools[0].function', 'missing_required_parameter'],
    ['bad response_format', { model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], response_format: { type: 'xml' } }, 'response_format.type', 'invalid_value'],
    ['tool message without tool_call_id', { model: 'sim-chat', messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', 'missing_required_parameter'],
  ];
  for (const [name, body, param, code] of cases) {
    test(name, async () => {
      const reply = await chat(body);
      assert.equal(reply.status, 400, reply.text);
      assertEnvelope(reply, code);
      assert.equal(reply.json.error.param, param);
      assert.ok(reply.json.error.message.includes(param), reply.json.error.message);
    });
  }

  test('more messages than the configured maximum -> 400 on messages', async () => {
    const messages = Array.from({ length: MAX_MESSAGES + 1 }, () => ({ role: 'user', content: 'x' }));
    const reply = await chat({ model: 'sim-chat', messages });
    assert.equal(reply.status, 400);
    assertEnvelope(reply);
    assert.equal(reply.json.error.param, 'messages');
    assert.match(reply.json.error.message, new RegExp(`maximum length ${MAX_MESSAGES}`));
  });

  test('embeddings: input of a wrong type names input', async () => {
    const reply = await post('/v1/embeddings', JSON.stringify({ model: 'sim-embed', input: { text: 'x' } }));
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error.param, 'input');
  });
});

describe('accepted as OpenAI-compatible servers do', () => {
  test('every tool_choice form OpenAI defines passes validation, and custom tools are accepted', async () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: {} } } }];
    for (const tool_choice of ['auto', 'none', 'required', { type: 'function', function: { name: 'f' } }, { type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'f' } }] } }]) {
      // Passed on means the upstream answered (it may still refuse a form it does not support).
      const reply = await chat({ model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], tools, tool_choice });
      assert.ok(reply.status === 200 || reply.headers['x-floodgate-deployment'], `${JSON.stringify(tool_choice)}: ${reply.text}`);
    }
    const custom = await chat({ model: 'sim-chat', messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'custom', custom: { name: 'grammar_tool' } }] });
    assert.ok(custom.status === 200 || custom.headers['x-floodgate-deployment'], custom.text);
  });

  test('a body that is not an object says so, instead of naming a null param', async () => {
    const reply = await post('/v1/chat/completions', '', {});
    assert.equal(reply.status, 400);
    assertEnvelope(reply);
    assert.match(reply.json.error.message, /JSON object|empty/);
  });

  test('unknown fields, top-level and nested, are accepted and passed on', async () => {
    const reply = await chat({ model: 'sim-chat', messages: [{ role: 'user', content: 'x', vendor_hint: 1 }], top_k: 40, repetition_penalty: 1.1 });
    assert.equal(reply.status, 200, reply.text);
  });
});

describe('unknown routes and models', () => {
  test('unknown URL -> 404 envelope naming the URL', async () => {
    const reply = await post('/v1/nothing-here', '{}');
    assert.equal(reply.status, 404);
    assertEnvelope(reply);
    assert.match(reply.json.error.message, /POST \/v1\/nothing-here/);
  });

  test('unknown model -> 404 model_not_found; GET /v1/models/{unknown} too', async () => {
    const reply = await chat({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(reply.status, 404);
    assertEnvelope(reply, 'model_not_found');
    const res = await request(`${stack.baseURL}/models/gpt-9`);
    assert.equal(res.statusCode, 404);
    assertEnvelope({ json: await res.body.json(), text: '' }, 'model_not_found');
  });
});

test('after all of that the process is healthy and still serves', async () => {
  const health = await request(`${stack.gateway.url}/healthz`);
  assert.equal(health.statusCode, 200);
  await health.body.dump();
  const reply = await chat({ model: 'sim-chat', messages: [{ role: 'user', content: 'still there?' }] });
  assert.equal(reply.status, 200);
});
