// Streams on the wire: exact SSE framing, honest endings when an upstream breaks, and the
// Prometheus series a stream leaves behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { configFrom, startStack, type Stack } from './support/stack.js';
import { assertMatchesSchema } from './support/openapi.js';

let stack: Stack;

const FAULTS: Record<string, string> = {
  cut: 'cut:3',
  malformed: 'malformed:2',
  'error-event': 'error-event:2',
  reset: 'reset',
  refusal: 'refusal',
};

before(async () => {
  stack = await startStack({
    config: (url) =>
      configFrom({
        providers: {
          sim: { base_url: url },
          impatient: { base_url: url, timeouts: { connect_ms: 1000, first_byte_ms: 300, idle_ms: 300 } },
        },
        deployments: {
          healthy: { provider: 'sim', model: 'sim-chat' },
          'late-dep': { provider: 'impatient', model: 'sim-chat', headers: { 'x-sim-fault': 'slow-first-byte:3000' } },
          'stalling-dep': { provider: 'impatient', model: 'sim-chat', headers: { 'x-sim-fault': 'hang:3' } },
          ...Object.fromEntries(Object.entries(FAULTS).map(([name, fault]) => [`${name}-dep`, { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': fault } }])),
        },
        models: {
          'sim-chat': { deployments: ['healthy'], context_length: 16384 },
          late: { deployments: ['late-dep'], context_length: 16384 },
          stalling: { deployments: ['stalling-dep'], context_length: 16384 },
          ...Object.fromEntries(Object.keys(FAULTS).map((name) => [name, { deployments: [`${name}-dep`], context_length: 16384 }])),
        },
      }),
  });
});
after(async () => stack.close());

async function stream(model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const res = await request(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model, stream: true, messages: [{ role: 'user', content: 'Hello there' }], ...extra }),
  });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

function events(text: string): string[] {
  return text.split('\n\n').filter(Boolean).map((e) => {
    assert.ok(e.startsWith('data: '), `every event is a data line: ${e.slice(0, 80)}`);
    return e.slice('data: '.length);
  });
}

describe('SSE framing', () => {
  test('headers, one JSON chunk per event, [DONE] last, every chunk a valid stream response', async () => {
    const reply = await stream('sim-chat', { stream_options: { include_usage: true } }, { 'x-request-id': 'trace-123' });
    assert.equal(reply.status, 200);
    assert.match(String(reply.headers['content-type']), /^text\/event-stream/);
    assert.equal(reply.headers['x-request-id'], 'trace-123', 'a plain caller request id is kept');
    assert.equal(reply.headers['x-floodgate-deployment'], 'healthy');
    const all = events(reply.text);
    assert.equal(all.at(-1), '[DONE]');
    const chunks = all.slice(0, -1).map((e) => JSON.parse(e) as { id: string; choices: unknown[]; usage?: unknown });
    for (const chunk of chunks) assertMatchesSchema('CreateChatCompletionStreamResponse', chunk);
    assert.equal(new Set(chunks.map((c) => c.id)).size, 1, 'one id for the whole stream');
    assert.deepEqual(chunks.at(-1)!.choices, []);
    assert.ok(chunks.at(-1)!.usage);
  });

  test('an unsafe caller request id is replaced by our own', async () => {
    const reply = await stream('sim-chat', {}, { 'x-request-id': 'bad id <script>' });
    assert.match(String(reply.headers['x-request-id']), /^req_[0-9a-f]{32}$/);
  });
});

describe('honest endings when the upstream breaks', () => {
  for (const model of ['cut', 'malformed', 'error-event']) {
    test(`${model} after the first byte: an error event in OpenAI's shape and no [DONE]`, async () => {
      const reply = await stream(model);
      assert.equal(reply.status, 200);
      const all = events(reply.text);
      assert.ok(!all.includes('[DONE]'));
      const last = JSON.parse(all.at(-1)!) as unknown;
      assertMatchesSchema('ErrorResponse', last);
      const error = (last as { error: { message: string; code: string } }).error;
      assert.match(error.message, new RegExp(`${model}-dep`));
      assert.ok(all.length >= 2, 'content chunks were relayed before the failure');
    });
  }

  test('reset before any byte: an ordinary 502 JSON error', async () => {
    const reply = await stream('reset');
    assert.equal(reply.status, 502);
    const body = JSON.parse(reply.text) as unknown;
    assertMatchesSchema('ErrorResponse', body);
    assert.equal((body as { error: { code: string } }).error.code, 'upstream_unreachable');
    assert.equal(reply.headers['x-floodgate-deployment'], 'reset-dep');
  });

  test('no first byte within the provider timeout: 504 naming the deployment', async () => {
    const reply = await stream('late');
    assert.equal(reply.status, 504);
    const body = JSON.parse(reply.text) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'upstream_timeout');
    assert.match(body.error.message, /late-dep/);
  });

  test('an upstream that goes idle mid-stream: the stream ends with a timeout error event', async () => {
    const reply = await stream('stalling');
    assert.equal(reply.status, 200);
    const all = events(reply.text);
    assert.ok(!all.includes('[DONE]'));
    assert.equal((JSON.parse(all.at(-1)!) as { error: { code: string } }).error.code, 'upstream_timeout');
  });

  test('a content-policy refusal reaches the caller as a 400 with its code', async () => {
    const reply = await stream('refusal');
    assert.equal(reply.status, 400);
    assert.equal((JSON.parse(reply.text) as { error: { code: string } }).error.code, 'content_policy_violation');
  });
});

test('/metrics exposes requests, latency, time to first token, tokens and upstream errors', async () => {
  await stream('sim-chat');
  await stream('cut');
  await stream('invented-model-name-123');
  const text = await (await request(`${stack.gateway.url}/metrics`)).body.text();
  assert.ok(!text.includes('invented-model-name-123'), 'unknown model names never become labels');
  assert.match(text, /floodgate_requests_total\{route="\/v1\/chat\/completions",model="unknown",status="404"\} 1/);
  assert.match(text, /floodgate_requests_total\{route="\/v1\/chat\/completions",model="sim-chat",status="200"\} \d+/);
  assert.match(text, /floodgate_request_duration_seconds_bucket\{le="[^"]+",route="\/v1\/chat\/completions",model="sim-chat"\}/);
  assert.match(text, /floodgate_time_to_first_token_seconds_count\{model="sim-chat",deployment="healthy"\} [1-9]/);
  assert.match(text, /floodgate_tokens_total\{model="sim-chat",deployment="healthy",direction="in"\} [1-9]/);
  assert.match(text, /floodgate_tokens_total\{model="sim-chat",deployment="healthy",direction="out"\} [1-9]/);
  assert.match(text, /floodgate_upstream_errors_total\{deployment="cut-dep",code="upstream_[a-z_]+"\} [1-9]/);
  assert.ok(!text.includes(stack.simulatorUrl), 'no upstream URL in metrics');
});
