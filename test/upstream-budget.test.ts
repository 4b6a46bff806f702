// Upstream budgets end to end: the simulator behind a recording proxy as the upstream, the gateway
// in front. Requests over a deployment's rpm wait their turn instead of failing, the upstream sees
// them spaced by the budget and never has to answer 429; an upstream 429 is waited out when its
// Retry-After allows, passed on when it does not; a request that cannot be served before
// its queue deadline is refused at once with a Retry-After; a streaming request that waits gets
// keep-alive comments the SDKs ignore; two nodes sharing a Redis budget respect one rpm together.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import OpenAI from 'openai';
import { streamText } from 'ai';
import { createOpenAI } from '@ai-sdk/openai';
import { request } from 'undici';
import { Redis } from 'ioredis';
import { CancelSignal } from '../src/core/cancel.js';
import { Metrics } from '../src/observability/metrics.js';
import { runChat } from '../src/pipeline/chat.js';
import { ProviderRegistry } from '../src/providers/registry.js';
import { ModelCatalog } from '../src/router/catalog.js';
import { Router } from '../src/router/router.js';
import { RedisBudgetBackend } from '../src/budget/redis-backend.js';
import { startSimulator } from '../src/simulator/index.js';
import { configFrom, startStack, type Stack } from './support/stack.js';
import { gaps, startRecordingProxy, type RecordingProxy } from './support/recording-proxy.js';

const REDIS_URL = process.env.FLOODGATE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** Callers without a key get no client limits here: only the upstream budget holds them back. */
const UNLIMITED_CALLERS = { tiers: { anonymous: { priority: 0 } } };

/**
 * For the enclosing describe: a gateway whose one deployment, \`paced\`, reaches the simulator
 * through a recording proxy (\`deployment\`: what it adds, such as limits; \`extra\`: more config).
 */
function proxiedGateway(deployment: Record<string, unknown>, extra: Record<string, unknown> = {}): { proxy: RecordingProxy; stack: Stack } {
  const handle = {} as { proxy: RecordingProxy; stack: Stack };
  before(async () => {
    handle.proxy = await startRecordingProxy();
    handle.stack = await startStack({
      config: (simulatorUrl) => {
        handle.proxy.target = simulatorUrl;
        return configFrom({
          providers: { sim: { base_url: handle.proxy.url } },
          deployments: { paced: { provider: 'sim', model: 'sim-chat', ...deployment } },
          models: { paced: { deployments: ['paced'] } },
          routing: { stream_keepalive_ms: 200 },
          limits: UNLIMITED_CALLERS,
          ...extra,
        });
      },
    });
  });
  after(async () => {
    await handle.stack.close();
    await handle.proxy.close();
  });
  return handle;
}

async function chat(stack: Stack, body: Record<string, unknown>) {
  const started = Date.now();
  const reply = await request(`${stack.baseURL}/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'paced', messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
  return { status: reply.statusCode, headers: reply.headers, text: await reply.body.text(), ms: Date.now() - started };
}

/** Waits until the deployment's budget has refilled, so each test starts from an idle upstream. */
const idle = () => new Promise((r) => setTimeout(r, 1100));

describe('a deployment with rpm 60', () => {
  const g = proxiedGateway({ limits: { rpm: 60 } });

  test('five requests at once all succeed: they wait their turn and reach the upstream a second apart', async () => {
    g.proxy.arrivals.length = 0;
    const replies = await Promise.all(Array.from({ length: 5 }, () => chat(g.stack, {})));
    assert.deepEqual(replies.map((r) => r.status), [200, 200, 200, 200, 200], replies.map((r) => r.text).join('\n'));
    assert.equal(g.proxy.arrivals.length, 5, 'one upstream call each: none was refused and retried');
    for (const gap of gaps(g.proxy.arrivals)) assert.ok(gap >= 950 && gap < 1500, `gaps between upstream calls: ${gaps(g.proxy.arrivals).join(', ')} ms`);
    const waits = replies.map((r) => r.ms).sort((a, b) => a - b);
    assert.ok(waits[4]! >= 3900, `the last waited about four seconds: ${waits.join(', ')} ms`);
  });

  test('a streaming request that waits gets keep-alive comments first, then the stream as usual', async () => {
    await idle();
    assert.equal((await chat(g.stack, {})).status, 200, 'spends this second\'s budget');
    const reply = await chat(g.stack, { stream: true });
    assert.equal(reply.status, 200);
    const firstData = reply.text.indexOf('data: ');
    const comments = reply.text.slice(0, firstData).match(/^: keep-alive$/gm) ?? [];
    assert.ok(comments.length >= 3, `keep-alive comments while it waited: ${comments.length}`);
    assert.ok(reply.text.trimEnd().endsWith('data: [DONE]'));
  });

  test('/v1/responses streams that wait get keep-alive comments too', async () => {
    await idle();
    assert.equal((await chat(g.stack, {})).status, 200);
    const reply = await request(`${g.stack.baseURL}/responses`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'paced', input: 'hello', stream: true }),
    });
    const text = await reply.body.text();
    assert.equal(reply.statusCode, 200);
    const comments = text.slice(0, text.indexOf('event: ')).match(/^: keep-alive$/gm) ?? [];
    assert.ok(comments.length >= 3, `keep-alive comments while it waited: ${comments.length}`);
    assert.match(text, /event: response\.completed/);
  });

  test('the openai SDK and the Vercel AI SDK read a stream that waited as if nothing happened', async () => {
    await idle();
    assert.equal((await chat(g.stack, {})).status, 200);
    const client = new OpenAI({ baseURL: g.stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    const started = Date.now();
    let text = '';
    for await (const chunk of await client.chat.completions.create({ model: 'paced', messages: [{ role: 'user', content: 'hello' }], stream: true })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    assert.ok(Date.now() - started >= 800, 'it did wait for budget');
    assert.ok(text.split(' ').length >= 5, `openai SDK text: ${text}`);

    const provider = createOpenAI({ baseURL: g.stack.baseURL, apiKey: 'anonymous' });
    const result = streamText({ model: provider.chat('paced'), prompt: 'hello', maxRetries: 0 });
    let vercelText = '';
    for await (const delta of result.textStream) vercelText += delta;
    assert.ok(vercelText.split(' ').length >= 5, `Vercel AI SDK text: ${vercelText}`);
    assert.equal(await result.finishReason, 'stop');
  });
});

describe('an upstream that reports its own budget running out', () => {
  // No configured limits: only what the upstream says holds calls back.
  const g = proxiedGateway({});

  test('x-ratelimit-* headers are learned: with none left, the next call waits for the upstream to refill', async () => {
    // 0 of 10 left, full again in 10 s: one more a second.
    g.proxy.extraHeaders = { 'x-ratelimit-limit-requests': '10', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '10s' };
    assert.equal((await chat(g.stack, {})).status, 200);
    const second = await chat(g.stack, {});
    assert.equal(second.status, 200);
    assert.ok(second.ms >= 900, `waited ${second.ms} ms for the upstream's budget`);
    assert.ok(gaps(g.proxy.arrivals)[0]! >= 900);
  });
});

describe('an upstream that answers 429 with a short Retry-After', () => {
  // No configured limits: the gateway learns of the upstream's only from its 429.
  const g = proxiedGateway({});

  test('the 429 is waited out, not passed on: the request and the ones behind it are served once the window is over', async () => {
    g.proxy.arrivals.length = 0;
    g.proxy.refuse = { count: 1, retryAfterSeconds: 1 };
    const refused = chat(g.stack, {});
    await new Promise((r) => setTimeout(r, 100));
    const behind = await Promise.all([chat(g.stack, {}), chat(g.stack, { stream: true })]);
    const first = await refused;
    for (const reply of [first, ...behind]) assert.equal(reply.status, 200, reply.text);
    assert.equal(first.headers['x-floodgate-attempts'], '2', 'the refused request was tried again');
    assert.ok(first.ms >= 950, `it waited for the Retry-After: ${first.ms} ms`);
    assert.equal(behind[0]!.headers['x-floodgate-attempts'], '1', 'the others waited instead of calling into the window');
    assert.equal(g.proxy.arrivals.length, 4, 'one refused call, then one each');
    const sorted = [...g.proxy.arrivals].sort((a, b) => a - b);
    assert.ok(sorted[1]! - sorted[0]! >= 950, `nothing reached the upstream inside its window: ${gaps(g.proxy.arrivals).join(', ')} ms`);
    assert.match(behind[1]!.text, /^: keep-alive$/m, 'the waiting stream was kept alive');
    assert.ok(behind[1]!.text.trimEnd().endsWith('data: [DONE]'));
  });

  test('a Retry-After past the queue deadline is passed on at once, with the upstream\'s Retry-After', async () => {
    await new Promise((r) => setTimeout(r, 1100));
    g.proxy.arrivals.length = 0;
    g.proxy.refuse = { count: 1, retryAfterSeconds: 45 };
    const reply = await chat(g.stack, {});
    assert.equal(reply.status, 429, reply.text);
    assert.ok(reply.ms < 1000, `refused after ${reply.ms} ms`);
    assert.equal(reply.headers['retry-after'], '45');
    assert.equal((JSON.parse(reply.text) as { error: { code: string } }).error.code, 'upstream_rate_limited');
    assert.equal(g.proxy.arrivals.length, 1);
  });
});

describe('a queue deadline of 1.5 s', () => {
  const g = proxiedGateway({ limits: { rpm: 60 } }, { queue: { deadline_ms: 1500 } });

  test('a request that cannot be served in time is refused at once with 429 and a Retry-After, not after waiting', async () => {
    const replies = await Promise.all(Array.from({ length: 3 }, () => chat(g.stack, {})));
    const statuses = replies.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 429], 'now, in a second, and one that would need two');
    const refused = replies.find((r) => r.status === 429)!;
    assert.ok(refused.ms < 300, `refused after ${refused.ms} ms`);
    assert.equal(refused.headers['retry-after'], '2');
    const body = JSON.parse(refused.text) as { error: { code: string; type: string; message: string } };
    assert.equal(body.error.code, 'upstream_budget_exhausted');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.match(body.error.message, /model 'paced'/);
    assert.equal(g.proxy.arrivals.length, 2, 'the refused request never reached the upstream');
  });
});

describe('two nodes sharing a Redis budget', () => {
  let redis: Redis;
  let proxy: RecordingProxy;
  let simulator: Awaited<ReturnType<typeof startSimulator>>;
  const prefix = `floodgate:test:budget:${randomBytes(4).toString('hex')}`;
  before(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
    proxy = await startRecordingProxy();
    simulator = await startSimulator({ pacing: 'instant' });
    proxy.target = simulator.url;
  });
  after(async () => {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
    await proxy.close();
    await simulator.close();
  });

  /** One gateway node's pipeline, as server.ts wires it in scale-out mode (limits.backend: redis). */
  function node() {
    const config = configFrom({
      providers: { sim: { base_url: proxy.url } },
      deployments: { shared: { provider: 'sim', model: 'sim-chat', limits: { rpm: 120 } } },
      models: { shared: { deployments: ['shared'] } },
    });
    const registry = new ProviderRegistry();
    const catalog = new ModelCatalog(config, registry, { budgetBackend: new RedisBudgetBackend({ redis, prefix, leaseMs: config.routing.total_timeout_ms }) });
    const deps = { catalog, router: new Router(config.routing), metrics: new Metrics({ processMetrics: false }) };
    return {
      registry,
      async chat(): Promise<void> {
        const ctx = { signal: new CancelSignal(), requestId: 'r', receivedAt: performance.now() };
        const reply = await runChat(deps, { model: 'shared', messages: [{ role: 'user', content: 'hi' }] }, ctx);
        assert.equal(reply.kind, 'completion');
      },
    };
  }

  test('together they respect one rpm: one burst, then a call every half second, not one per node', async () => {
    const a = node();
    const b = node();
    await Promise.all([a.chat(), b.chat(), a.chat(), b.chat(), a.chat(), b.chat()]);
    assert.equal(proxy.arrivals.length, 6);
    // rpm 120 shared: a burst of 900 ms (the second call 100 ms after the first), then one every
    // 500 ms: 2.1 s for six calls. Each node
    // on its own budget would have sent its three within half a second.
    const first = Math.min(...proxy.arrivals);
    const offsets = proxy.arrivals.map((t) => t - first).sort((x, y) => x - y);
    offsets.forEach((offset, i) => assert.ok(offset >= Math.max(0, i - 1) * 500 - 30, `arrivals after the first: ${offsets.join(', ')} ms`));
    assert.ok(gaps(proxy.arrivals).slice(1).every((gap) => gap >= 450), `gaps: ${gaps(proxy.arrivals).join(', ')} ms`);
    await Promise.all([a.registry.close(), b.registry.close()]);
  });
});
