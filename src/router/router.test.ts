// The failover loop on a fake clock, over scripted upstreams (the end-to-end fault suite in
// test/faults.test.ts runs the same rules against the simulator over real sockets).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../config/config.js';
import { validateRaw } from '../config/load.js';
import { CancelSignal } from '../core/cancel.js';
import { GatewayError } from '../core/errors.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { ChatOutcome, ProviderKind } from '../providers/types.js';
import { ModelCatalog } from './catalog.js';
import { planSimpleRoute } from './planner.js';
import { Router } from './router.js';

type Script = (deployment: string) => 'ok' | GatewayError;

const failure = (status: number, code: string, extra: Partial<{ retryable: boolean; retryAfterSeconds: number; retryAfterMs: number }> = {}) =>
  (deployment: string) =>
    new GatewayError(`Upstream ${deployment} failed (${code})`, { status, type: 'upstream_error', code, retryable: status >= 500 || status === 429, deployment, ...extra });

function setup(
  raw: { deployments: string[]; models: Record<string, Record<string, unknown>>; routing?: Record<string, unknown>; queue?: Record<string, unknown> },
  /** Runs during each backoff sleep: what other requests do meanwhile. */
  duringSleep: () => void = () => {},
) {
  let now = 1_000_000;
  const behaviour = new Map<string, Script>();
  const calls: string[] = [];
  const kind: ProviderKind = {
    kind: 'openai-compatible',
    create: (_provider, deployment) => ({
      deployment: deployment.name,
      chat: async (): Promise<ChatOutcome> => {
        calls.push(deployment.name);
        const result = (behaviour.get(deployment.name) ?? (() => 'ok' as const))(deployment.name);
        if (result !== 'ok') throw result;
        return { kind: 'completion', completion: { id: 'x', object: 'chat.completion', created: 0, model: 'up', choices: [] } };
      },
    }),
  };
  const config = resolveConfig(validateRaw({
    providers: { p: { base_url: 'http://127.0.0.1:1' } },
    deployments: Object.fromEntries(raw.deployments.map((d) => [d, { provider: 'p', model: 'm' }])),
    models: raw.models,
    routing: raw.routing ?? {},
    queue: raw.queue ?? {},
  }), { kind: 'file', path: 'test' });
  const catalog = new ModelCatalog(config, new ProviderRegistry([kind]), { now: () => now });
  const sleeps: number[] = [];
  const router = new Router(config.routing, { now: () => now, random: () => 0.5, sleep: async (ms) => {
    sleeps.push(ms);
    duringSleep();
  } });
  const call = async (model: string) => {
    const routed = await router.route(planSimpleRoute(catalog, catalog.get(model)!), new CancelSignal(), async (_m, lease) => {
      await lease.deployment.upstream.chat({ model, messages: [] }, { signal: new CancelSignal(), requestId: 'r' });
      return lease.deployment.name;
    });
    routed.lease.succeed();
    return routed;
  };
  return { catalog, router, behaviour, calls, call, sleeps, advance: (ms: number) => (now += ms) };
}

test('a retryable failure moves to the next deployment; the answer says how many attempts it took', async () => {
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'], strategy: 'priority' } } });
  s.behaviour.set('a', failure(503, 'upstream_unavailable'));
  const routed = await s.call('m');
  assert.equal(routed.value, 'b');
  assert.equal(routed.attempts, 2);
  assert.deepEqual(s.calls, ['a', 'b']);
});

test('a rejected request (400) is not retried anywhere', async () => {
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'], strategy: 'priority' } } });
  s.behaviour.set('a', failure(400, 'invalid_value'));
  await assert.rejects(s.call('m'), (e: GatewayError) => e.code === 'invalid_value' && e.status === 400);
  assert.deepEqual(s.calls, ['a']);
});

test('a deployment inside its Retry-After window receives nothing until the window ends', async () => {
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'], strategy: 'priority' } } });
  s.behaviour.set('a', failure(429, 'upstream_rate_limited', { retryAfterSeconds: 5 }));
  await s.call('m');
  s.behaviour.delete('a');
  s.calls.length = 0;
  for (let i = 0; i < 10; i++) await s.call('m');
  assert.deepEqual([...new Set(s.calls)], ['b'], 'a is cooling down');
  s.advance(5000);
  s.calls.length = 0;
  await s.call('m');
  assert.deepEqual(s.calls, ['a'], 'a is back after its Retry-After');
});

test('when every deployment is cooling down the caller gets 429 with the shortest Retry-After, and no call is made', async () => {
  // A Retry-After longer than the queue deadline: a new request is refused at once instead of waiting.
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'], strategy: 'priority' } }, queue: { deadline_ms: 1000 } });
  s.behaviour.set('a', failure(429, 'upstream_rate_limited', { retryAfterSeconds: 7 }));
  s.behaviour.set('b', failure(429, 'upstream_rate_limited', { retryAfterSeconds: 3 }));
  await assert.rejects(s.call('m'), (e: GatewayError) => e.status === 429 && e.retryAfterSeconds === 3 && /a: 429.*b: 429/.test(e.message));
  s.calls.length = 0;
  await assert.rejects(s.call('m'), (e: GatewayError) => e.status === 429 && e.code === 'upstream_rate_limited' && e.retryAfterSeconds === 3 && e.attempts === 0);
  assert.deepEqual(s.calls, []);
});

test('consecutive failures open the breaker; an open deployment is skipped, then probed after open_ms', async () => {
  const s = setup({
    deployments: ['a', 'b'],
    models: { m: { deployments: ['a', 'b'], strategy: 'priority' } },
    routing: { breaker: { consecutive_failures: 3, open_ms: 1000 }, retry_budget: { min_retries: 100 } },
  });
  s.behaviour.set('a', failure(500, 'upstream_error'));
  for (let i = 0; i < 3; i++) await s.call('m');
  assert.equal(s.catalog.deployments.get('a')!.breaker.current(), 'open');
  s.calls.length = 0;
  for (let i = 0; i < 5; i++) await s.call('m');
  assert.deepEqual(s.calls, ['b', 'b', 'b', 'b', 'b']);
  s.behaviour.delete('a');
  s.advance(1000);
  s.calls.length = 0;
  await s.call('m');
  assert.deepEqual(s.calls, ['a'], 'the probe goes to a');
  assert.equal(s.catalog.deployments.get('a')!.breaker.current(), 'closed');
});

test('panic: with more than half the deployments ejected, all of them serve', async () => {
  const s = setup({
    deployments: ['a', 'b'],
    models: { m: { deployments: ['a', 'b'], strategy: 'priority' } },
    routing: { breaker: { consecutive_failures: 2, open_ms: 60_000 }, retry_budget: { min_retries: 100 } },
  });
  s.behaviour.set('a', failure(500, 'upstream_error'));
  s.behaviour.set('b', failure(500, 'upstream_error'));
  for (let i = 0; i < 3; i++) await s.call('m').catch(() => {});
  assert.equal(s.catalog.deployments.get('a')!.breaker.current(), 'open');
  assert.equal(s.catalog.deployments.get('b')!.breaker.current(), 'open');
  s.behaviour.delete('b');
  const routed = await s.call('m');
  assert.ok(['a', 'b'].includes(routed.value), 'both open: the model still serves');
});

test('a full outage costs at most 1.2 upstream calls per request under the retry budget', async () => {
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'] } }, routing: { breaker: { consecutive_failures: 1000, min_calls: 1000 } } });
  s.behaviour.set('a', failure(503, 'upstream_unavailable'));
  s.behaviour.set('b', failure(503, 'upstream_unavailable'));
  const run = async (requests: number) => {
    const before = s.calls.length;
    for (let i = 0; i < requests; i++) {
      s.advance(20); // 50 requests a second
      await s.call('m').catch(() => {});
    }
    return s.calls.length - before;
  };
  // From a cold start the starting reserve and the floor (min_retries each) add a little; after
  // one window it is the 20 % alone: at most one retry above it, for the fraction carried in.
  const cold = await run(500);
  assert.ok(cold <= 500 * 1.2 + 20, `cold: ${cold} calls for 500 requests`);
  const steady = await run(1000);
  assert.ok(steady <= Math.ceil(1000 * 1.2) + 1 && steady >= 1190, `steady: ${steady} calls for 1000 requests`);
});

test('every attempt failing: the error lists each deployment with status and code, and no URL', async () => {
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'], strategy: 'priority' } } });
  s.behaviour.set('a', failure(503, 'upstream_unavailable'));
  s.behaviour.set('b', failure(504, 'upstream_timeout'));
  await assert.rejects(s.call('m'), (e: GatewayError) => {
    assert.match(e.message, /All 3 attempts for model 'm' failed: a: 503 upstream_unavailable .*; b: 504 upstream_timeout .*; a: 503/);
    assert.equal(e.code, 'upstreams_exhausted');
    assert.equal(e.status, 503, 'the last failure sets the status');
    assert.ok(!e.message.includes('127.0.0.1'));
    return true;
  });
});

test('fallback models are tried after the model\'s own deployments, and the answer says so', async () => {
  const s = setup({
    deployments: ['a', 'big'],
    models: { fast: { deployments: ['a'], fallbacks: ['large'] }, large: { deployments: ['big'] } },
  });
  s.behaviour.set('a', failure(502, 'upstream_unreachable'));
  const routed = await s.call('fast');
  assert.equal(routed.model.config.id, 'large');
  assert.equal(routed.fallback, 'fallback');
  assert.deepEqual(s.calls, ['a', 'big']);
});

test('a content-policy refusal goes to content_policy_fallbacks only', async () => {
  const s = setup({
    deployments: ['a', 'b', 'lenient'],
    models: { m: { deployments: ['a', 'b'], strategy: 'priority', content_policy_fallbacks: ['open'] }, open: { deployments: ['lenient'] } },
  });
  s.behaviour.set('a', (d) => new GatewayError('refused', { status: 400, type: 'invalid_request_error', code: 'content_policy_violation', deployment: d }));
  const routed = await s.call('m');
  assert.equal(routed.model.config.id, 'open');
  assert.equal(routed.fallback, 'content_policy');
  assert.deepEqual(s.calls, ['a', 'lenient']);
});

test('failover to an untried deployment is immediate; a retry of a tried one waits a doubling, jittered backoff', async () => {
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'], strategy: 'priority' } }, routing: { backoff_base_ms: 100, max_attempts: 4 } });
  s.behaviour.set('a', failure(502, 'upstream_unreachable'));
  s.behaviour.set('b', failure(502, 'upstream_unreachable'));
  await assert.rejects(s.call('m'));
  assert.deepEqual(s.calls, ['a', 'b', 'a', 'a']);
  // random() is pinned at 0.5: half of 100 * 2^(n-1) for the 2nd and 3rd retries, none before b.
  assert.deepEqual(s.sleeps, [100, 200]);
});

test('after a backoff the choice is made again: a deployment that went into cooldown meanwhile is not called', async () => {
  const s: ReturnType<typeof setup> = setup({ deployments: ['a'], models: { m: { deployments: ['a'] } } }, () => {
    // Another request got a 429 from `a` while this one slept, with a Retry-After past the queue deadline.
    s.catalog.deployments.get('a')!.recordFailure(failure(429, 'upstream_rate_limited', { retryAfterSeconds: 60 })('a'), false);
  });
  s.behaviour.set('a', failure(502, 'upstream_unreachable'));
  await assert.rejects(s.call('m'), (e: GatewayError) => e.code === 'upstream_unreachable');
  assert.deepEqual(s.calls, ['a'], 'no call inside the Retry-After window');
  assert.equal(s.sleeps.length, 1);
});

test('a retry-after-ms window is honoured to the millisecond', async () => {
  const s = setup({ deployments: ['a', 'b'], models: { m: { deployments: ['a', 'b'], strategy: 'priority' } } });
  s.behaviour.set('a', failure(429, 'upstream_rate_limited', { retryAfterSeconds: 1, retryAfterMs: 250 }));
  await s.call('m');
  s.behaviour.delete('a');
  s.advance(249);
  s.calls.length = 0;
  await s.call('m');
  assert.deepEqual(s.calls, ['b'], 'still inside the 250 ms window');
  s.advance(1);
  s.calls.length = 0;
  await s.call('m');
  assert.deepEqual(s.calls, ['a'], 'not held for a whole second');
});

test('an upstream 400 context_length_exceeded goes to the bigger models the plan offers, once', async () => {
  const s = setup({ deployments: ['a', 'big'], models: { m: { deployments: ['a'] }, large: { deployments: ['big'] } } });
  s.behaviour.set('a', (d) => new GatewayError('too long', { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', deployment: d }));
  const plan = { ...planSimpleRoute(s.catalog, s.catalog.get('m')!), biggerModels: async () => [s.catalog.get('large')!] };
  const routed = await s.router.route(plan, new CancelSignal(), async (_m, lease) => {
    await lease.deployment.upstream.chat({ model: 'm', messages: [] }, { signal: new CancelSignal(), requestId: 'r' });
    return lease.deployment.name;
  });
  assert.equal(routed.value, 'big');
  assert.equal(routed.fallback, 'context');
  s.behaviour.set('big', (d) => new GatewayError('too long', { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', deployment: d }));
  await assert.rejects(
    s.router.route(plan, new CancelSignal(), async (_m, lease) => lease.deployment.upstream.chat({ model: 'm', messages: [] }, { signal: new CancelSignal(), requestId: 'r' })),
    (e: GatewayError) => e.code === 'context_length_exceeded' && e.status === 400,
  );
});
