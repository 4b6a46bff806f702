// Load shedding over real sockets: an overloaded process refuses new requests with a 503,
// Retry-After and OpenAI's envelope, before reading their body, while health endpoints answer;
// once the load is gone it serves again. Then the same hook in front of the real gateway app.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { request, type Dispatcher } from 'undici';
import { buildApp, type App } from '../src/app.js';
import { simulatedConfig } from '../src/config/simulated.js';
import { toGatewayError } from '../src/http/error-reply.js';
import { HistoryHandle } from '../src/history/history-handle.js';
import { openHistory } from '../src/history/open-history.js';
import { ApiKeys } from '../src/identity/api-keys.js';
import { Identifier } from '../src/identity/identity.js';
import { resolveSessionSecret } from '../src/identity/session-secret.js';
import { SessionTokens } from '../src/identity/session-tokens.js';
import { createLogger } from '../src/observability/logger.js';
import { Metrics } from '../src/observability/metrics.js';
import { OverloadMonitor, type OverloadReason } from '../src/overload/overload-monitor.js';
import { overloadSchema, type OverloadConfig } from '../src/overload/overload-schema.js';
import type { ResourceSample, Sampler } from '../src/overload/process-sampler.js';
import { shedOverload, type Shedding } from '../src/overload/shed.js';
import { MemoryLimiter } from '../src/limits/memory-store.js';
import { ProviderRegistry } from '../src/providers/registry.js';
import { ModelCatalog } from '../src/router/catalog.js';
import { Router } from '../src/router/router.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';

const MIB = 1024 * 1024;
const CALM: ResourceSample = { eventLoopDelayMs: 1, heapUsedBytes: 100 * MIB, heapLimitBytes: 1000 * MIB, rssBytes: 200 * MIB };
const ENVELOPE_KEYS = ['code', 'message', 'param', 'type'];

const block = (ms: number): void => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A sampler whose readings the test sets; used with timer: false and monitor.sample(). */
function settableSampler() {
  let next = CALM;
  const sampler: Sampler = { read: () => next, stop: () => {} };
  return { sampler, set: (change: Partial<ResourceSample>) => (next = { ...CALM, ...change }) };
}

interface TestApp {
  url: string;
  fastify: FastifyInstance;
  shedding: Shedding;
  sheds: OverloadReason[];
  /** Bodies parsed so far: a refused request must not add to it. */
  parsed: () => number;
  /** Server-side ms from arrival to the 503 being sent, per refusal (Fastify's reply.elapsedTime). */
  refusalMs: number[];
  /** Opens the gate the /v1/slow requests wait on. */
  release: () => void;
}

/**
 * A small Fastify app shaped like the gateway: a JSON body parser, the shedding hook, an error
 * handler that replies the way src/app.ts's does, /healthz, a route doing real work on its body
 * and one that waits for the test.
 */
async function startTestApp(monitor: OverloadMonitor): Promise<TestApp> {
  const fastify = Fastify();
  let parsed = 0;
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => {
    parsed++;
    try {
      done(null, JSON.parse((body as Buffer).toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  const refusalMs: number[] = [];
  fastify.addHook('onResponse', (_request, reply, done) => {
    if (reply.statusCode === 503) refusalMs.push(reply.elapsedTime);
    done();
  });
  const sheds: OverloadReason[] = [];
  const shedding = shedOverload(fastify, monitor, { onShed: (reason) => sheds.push(reason) });
  fastify.setErrorHandler((error, _request, reply) => {
    const failure = toGatewayError(error);
    if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', String(failure.retryAfterSeconds));
    return reply.code(failure.status).send(failure.toBody());
  });
  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.post('/v1/work', async (req) => {
    let digest = JSON.stringify(req.body);
    for (let i = 0; i < 2_000; i++) digest = createHash('sha256').update(digest).digest('hex');
    return { digest };
  });
  let gate = openGate();
  fastify.post('/v1/slow', async () => {
    await gate.passed;
    return { done: true };
  });
  await fastify.listen({ host: '127.0.0.1', port: 0 });
  const address = fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`, fastify, shedding, sheds, parsed: () => parsed, refusalMs,
    release: () => {
      gate.open();
      gate = openGate();
    },
  };
}

function openGate(): { passed: Promise<void>; open: () => void } {
  let open = (): void => {};
  const passed = new Promise<void>((resolve) => (open = resolve));
  return { passed, open };
}

const post = (url: string, body: unknown = { messages: [{ role: 'user', content: 'hi' }] }, signal?: AbortSignal) =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

/** A 503 from the shedding hook, exactly as OpenAI's clients expect it. */
async function assertRefused(res: Dispatcher.ResponseData, retryAfter: string): Promise<void> {
  assert.equal(res.statusCode, 503);
  assert.equal(res.headers['retry-after'], retryAfter);
  const body = (await res.body.json()) as { error: Record<string, unknown> };
  assert.deepEqual(Object.keys(body.error).sort(), ENVELOPE_KEYS);
  assert.equal(body.error.type, 'service_unavailable');
  assert.equal(body.error.code, 'overloaded');
  assert.equal(body.error.param, null);
  assert.equal(typeof body.error.message, 'string');
}

async function statusOf(res: Dispatcher.ResponseData): Promise<number> {
  await res.body.dump();
  return res.statusCode;
}

function report(t: TestContext, label: string, ms: number[]): void {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(3);
  t.diagnostic(`${label}: ${sorted.length} refusals, server-side arrival to 503 sent: p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms`);
}

const config = (overrides: Partial<OverloadConfig>): OverloadConfig => overloadSchema.parse(overrides);

describe('load shedding on a small Fastify app', () => {
  test('a blocked event loop: new POSTs get 503 with Retry-After, /healthz answers, then service resumes', async (t) => {
    // The real sampler on its real timer.
    const monitor = new OverloadMonitor(config({ max_event_loop_delay_ms: 200, sample_interval_ms: 100, retry_after_s: 2 }));
    const app = await startTestApp(monitor);
    try {
      assert.equal(await statusOf(await post(`${app.url}/v1/work`)), 200);
      let refused: Dispatcher.ResponseData | undefined;
      let health = 0;
      let accepted = 0;
      const parsedBefore = app.parsed();
      let rounds = 0;
      for (; rounds < 5 && !refused; rounds++) {
        for (let i = 0; i < 3; i++) {
          block(500);
          await new Promise((r) => setImmediate(r));
        }
        // The sampler's timer is overdue; this lets it read before the requests arrive (a request
        // already queued behind a stall may get in before the first reading after it).
        await tick(1);
        const [work, healthz] = await Promise.all([post(`${app.url}/v1/work`, { big: 'x'.repeat(100_000) }), request(`${app.url}/healthz`)]);
        health = await statusOf(healthz);
        if (work.statusCode === 503) refused = work;
        else accepted += (await statusOf(work)) === 200 ? 1 : 0;
      }
      assert.ok(refused, 'a POST was refused after the event loop was blocked');
      await assertRefused(refused, '2');
      assert.equal(health, 200, '/healthz answered while the process was overloaded');
      assert.ok(app.sheds.includes('event_loop_delay'), `shed reasons: ${app.sheds.join(', ')}`);
      assert.equal(app.parsed(), parsedBefore + accepted, 'the refused body was never parsed');
      t.diagnostic(`refused after ${rounds} round(s) of 3 x 500 ms blocks; last reading ${monitor.lastSample?.eventLoopDelayMs.toFixed(1)} ms`);
      report(t, 'event-loop delay', app.refusalMs);
      // The issue asks for well under 50 ms; asserted loosely, since a busy test machine is no benchmark.
      assert.ok(Math.max(...app.refusalMs) < 1000);

      // Load gone: within a few readings (hysteresis needs one below 160 ms) requests are served.
      let served = 0;
      const until = performance.now() + 5_000;
      while (served === 0 && performance.now() < until) {
        if ((await statusOf(await post(`${app.url}/v1/work`))) === 200) served++;
        else await tick(50);
      }
      assert.equal(served, 1, 'served again once the loop was free');
    } finally {
      monitor.stop();
      await app.fastify.close();
    }
  });

  test('in flight: with max_in_flight 5, five slow requests held open, the sixth gets 503; it passes once they finish', async () => {
    const monitor = new OverloadMonitor(config({ max_in_flight: 5 }), { sampler: settableSampler().sampler, timer: false });
    const app = await startTestApp(monitor);
    try {
      const held = Array.from({ length: 5 }, () => post(`${app.url}/v1/slow`));
      while (app.shedding.inFlight < 5) await tick(5);
      await assertRefused(await post(`${app.url}/v1/work`), '1');
      assert.deepEqual(app.sheds, ['in_flight']);
      assert.equal(await statusOf(await request(`${app.url}/healthz`)), 200, 'exempt, and not counted');
      assert.equal(app.shedding.inFlight, 5);

      app.release();
      for (const res of await Promise.all(held)) assert.equal(await statusOf(res), 200);
      while (app.shedding.inFlight > 0) await tick(5);
      assert.equal(await statusOf(await post(`${app.url}/v1/work`)), 200);
    } finally {
      app.release();
      await app.fastify.close();
    }
  });

  test('in flight: a request its client abandons stops counting at once', async () => {
    const monitor = new OverloadMonitor(config({ max_in_flight: 2 }), { sampler: settableSampler().sampler, timer: false });
    const app = await startTestApp(monitor);
    try {
      const abandon = new AbortController();
      const kept = post(`${app.url}/v1/slow`);
      const abandoned = post(`${app.url}/v1/slow`, undefined, abandon.signal).catch((error: unknown) => error);
      while (app.shedding.inFlight < 2) await tick(5);
      assert.equal(await statusOf(await post(`${app.url}/v1/work`)), 503);
      abandon.abort();
      assert.equal(((await abandoned) as Error).name, 'AbortError');
      while (app.shedding.inFlight > 1) await tick(5);
      assert.equal(await statusOf(await post(`${app.url}/v1/work`)), 200, 'the handler of the abandoned request is still waiting; it no longer counts');
      app.release();
      assert.equal(await statusOf(await kept), 200);
    } finally {
      app.release();
      await app.fastify.close();
    }
  });

  test('heap past its ratio (injected readings): refused until it falls below 80 % of the limit', async (t) => {
    const readings = settableSampler();
    const monitor = new OverloadMonitor(config({ max_heap_used_ratio: 0.9, max_in_flight: 10_000 }), { sampler: readings.sampler, timer: false });
    const app = await startTestApp(monitor);
    try {
      readings.set({ heapUsedBytes: 950 * MIB });
      monitor.sample();
      const parsedBefore = app.parsed();
      // Many at once, to see what a refusal costs when they pile up.
      const burst = await Promise.all(Array.from({ length: 200 }, () => post(`${app.url}/v1/work`, { big: 'x'.repeat(10_000) })));
      for (const res of burst) await assertRefused(res, '1');
      assert.equal(app.parsed(), parsedBefore, 'no refused body was parsed');
      assert.equal(await statusOf(await request(`${app.url}/healthz`)), 200);
      report(t, 'heap, 200 concurrent', app.refusalMs);
      assert.ok(Math.max(...app.refusalMs) < 1000);

      readings.set({ heapUsedBytes: 800 * MIB });
      monitor.sample();
      assert.equal(await statusOf(await post(`${app.url}/v1/work`)), 503, 'held: 0.80 is above 0.72');
      readings.set({ heapUsedBytes: 700 * MIB });
      monitor.sample();
      assert.equal(await statusOf(await post(`${app.url}/v1/work`)), 200);
      assert.ok(app.sheds.every((r) => r === 'heap'));
    } finally {
      await app.fastify.close();
    }
  });
});

describe('load shedding in front of the real gateway app', () => {
  let simulator: RunningSimulator;
  let gateway: { app: App; url: string; close(): Promise<void> };
  const readings = settableSampler();
  const monitor = new OverloadMonitor(config({ max_rss_mb: 1000 }), { sampler: readings.sampler, timer: false });
  const refusalMs: number[] = [];

  before(async () => {
    simulator = await startSimulator({ host: '127.0.0.1', port: 0, pacing: 'instant' });
    // The app sheds through its own hook; the monitor is handed in with readings the test sets.
    gateway = await startGatewayApp(simulator.url, monitor, (app) => {
      app.fastify.addHook('onResponse', (request, reply, done) => {
        if (reply.statusCode === 503) refusalMs.push(performance.now() - request.receivedAt);
        done();
      });
    });
  });
  after(async () => {
    await gateway.close();
    await simulator.close();
  });

  test('chat completions get 503 with Retry-After and the envelope, /healthz and /metrics answer, then 200', async (t) => {
    const chat = () => post(`${gateway.url}/v1/chat/completions`, { model: 'sim-chat', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(await statusOf(await chat()), 200);

    readings.set({ rssBytes: 1200 * MIB });
    monitor.sample();
    const refused = await chat();
    assert.match(String(refused.headers['x-request-id']), /^req_/);
    await assertRefused(refused, '1');
    assert.equal(await statusOf(await request(`${gateway.url}/healthz`)), 200);
    assert.equal(await statusOf(await request(`${gateway.url}/readyz`)), 200);
    const metrics = await request(`${gateway.url}/metrics`);
    assert.equal(metrics.statusCode, 200);
    assert.match(await metrics.body.text(), /floodgate_requests_total\{route="\/v1\/chat\/completions",model="none",status="503"\} 1/);
    report(t, 'gateway, rss', refusalMs);

    readings.set({ rssBytes: 700 * MIB });
    monitor.sample();
    assert.equal(await statusOf(await chat()), 200);
  });
});

/** The gateway app wired as src/server.ts wires it, with `extend` run before it listens. */
async function startGatewayApp(simulatorUrl: string, overload: OverloadMonitor, extend: (app: App) => void) {
  const config = simulatedConfig(simulatorUrl);
  config.storage.data_dir = 'memory://';
  const logger = createLogger(process.env.LOG_LEVEL ?? 'silent');
  const registry = new ProviderRegistry();
  const catalog = new ModelCatalog(config, registry);
  const identifier = new Identifier(
    new ApiKeys(config.auth.api_keys),
    new SessionTokens(resolveSessionSecret(config.auth, config.storage), config.auth.session_ttl_s),
  );
  const history = new HistoryHandle(() => openHistory(config.storage, logger));
  const app = buildApp({
    server: config.server, routing: config.routing, catalog, router: new Router(config.routing), metrics: new Metrics({ processMetrics: false }),
    logger, identifier, history, deployments: config.deployments, overload,
    limits: config.limits, limiter: new MemoryLimiter(),
  });
  extend(app);
  await app.fastify.listen({ host: '127.0.0.1', port: 0 });
  const address = app.fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.fastify.close();
      await registry.close();
      await history.close(0);
    },
  };
}
