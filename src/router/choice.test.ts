// The router's choice step with upstream budgets, over scripted upstreams and the real waiting
// room (real time, short waits): budget decides like a cooldown, waits end in a call, a 429 is
// held in the budget every node shares, and a call's slot is held until its lease ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from '../config/config.js';
import { validateRaw } from '../config/load.js';
import { CancelSignal } from '../core/cancel.js';
import { GatewayError } from '../core/errors.js';
import { ProviderRegistry } from '../providers/registry.js';
import type { ChatOutcome, ProviderKind } from '../providers/types.js';
import type { BudgetBackend } from '../budget/backend.js';
import { MemoryBudgetBackend } from '../budget/memory-backend.js';
import { ModelCatalog } from './catalog.js';
import { planSimpleRoute } from './planner.js';
import { Router } from './router.js';

function node(deployments: Record<string, Record<string, unknown>>, models: Record<string, Record<string, unknown>>, backend: BudgetBackend = new MemoryBudgetBackend()) {
  const calls: string[] = [];
  const failures = new Map<string, GatewayError>();
  /** Deployments whose failure happens once, then they answer. */
  const once = new Set<string>();
  /** Deployments whose failure happens this many more times, then they answer. */
  const times = new Map<string, number>();
  const kind: ProviderKind = {
    kind: 'openai-compatible',
    create: (_provider, deployment) => ({
      deployment: deployment.name,
      chat: async (): Promise<ChatOutcome> => {
        calls.push(deployment.name);
        const failure = failures.get(deployment.name);
        if (failure) {
          const left = times.get(deployment.name) ?? (once.has(deployment.name) ? 1 : Infinity);
          if (left <= 1) failures.delete(deployment.name);
          else times.set(deployment.name, left - 1);
          throw failure;
        }
        return { kind: 'completion', completion: { id: 'x', object: 'chat.completion', created: 0, model: 'up', choices: [] } };
      },
    }),
  };
  const config = resolveConfig(validateRaw({
    providers: { p: { base_url: 'http://127.0.0.1:1' } },
    deployments: Object.fromEntries(Object.entries(deployments).map(([name, d]) => [name, { provider: 'p', model: 'm', ...d }])),
    models,
  }), { kind: 'file', path: 'test' });
  const catalog = new ModelCatalog(config, new ProviderRegistry([kind]), { budgetBackend: backend });
  const router = new Router(config.routing, { random: () => 0.5 });
  const route = (model: string, signal = new CancelSignal()) =>
    router.route(planSimpleRoute(catalog, catalog.get(model)!), signal, async (_m, lease) => {
      await lease.deployment.upstream.chat({ model, messages: [] }, { signal, requestId: 'r' });
      return lease.deployment.name;
    }, { tokens: 10 });
  return { calls, failures, once, times, catalog, route };
}

test('a deployment without budget is passed over like one in cooldown: the fallback serves at once', async () => {
  const n = node({ a: { limits: { rpm: 60 } }, b: {} }, { m: { deployments: ['a'], fallbacks: ['f'] }, f: { deployments: ['b'] } });
  (await n.route('m')).lease.succeed();
  const started = Date.now();
  const second = await n.route('m');
  second.lease.succeed();
  assert.equal(second.value, 'b');
  assert.equal(second.fallback, 'fallback');
  assert.ok(Date.now() - started < 200);
  assert.deepEqual(n.calls, ['a', 'b']);
});

test('when every deployment lacks budget the request waits for the earliest, then calls it', async () => {
  const n = node({ a: { limits: { rpm: 300 } } }, { m: { deployments: ['a'] } }); // burst 5, then one every 200 ms
  const started = Date.now();
  const routed = await Promise.all(Array.from({ length: 7 }, () => n.route('m')));
  for (const r of routed) r.lease.succeed();
  assert.equal(n.calls.length, 7);
  const took = Date.now() - started;
  assert.ok(took >= 380 && took < 1000, `seven calls at rpm 300 from idle: ${took} ms`);
  assert.ok(routed.every((r) => r.attempts === 1));
});

const limited = (retryAfterMs: number) =>
  new GatewayError('limited', { status: 429, type: 'rate_limit_error', code: 'upstream_rate_limited', retryable: true, retryAfterMs, deployment: 'a' });

test('an upstream 429 is held in the shared budget: the request waits out its Retry-After and is served, and another node waits too', async () => {
  // Only deployments with configured limits share their budget (the others skip the round trip).
  const shared = new MemoryBudgetBackend();
  const one = node({ a: { limits: { rpm: 6_000 } } }, { m: { deployments: ['a'] } }, shared);
  const two = node({ a: { limits: { rpm: 6_000 } } }, { m: { deployments: ['a'] } }, shared);
  one.failures.set('a', limited(300));
  one.once.add('a');
  const started = Date.now();
  const first = one.route('m');
  await new Promise((r) => setTimeout(r, 50));
  const other = await two.route('m');
  other.lease.succeed();
  assert.ok(Date.now() - started >= 250, 'the other node waited for the Retry-After');
  assert.deepEqual(two.calls, ['a'], 'and then called, once');
  const retried = await first;
  retried.lease.succeed();
  assert.equal(retried.attempts, 2, 'the refused request was retried once the window was over, not passed on');
  assert.ok(Date.now() - started >= 250);
  assert.deepEqual(one.calls, ['a', 'a']);
});

test('429s waited out do not use up max_attempts: three in a row, then served; one that never relents is given up', async () => {
  const n = node({ a: {} }, { m: { deployments: ['a'] } });
  n.failures.set('a', limited(20));
  n.times.set('a', 3);
  const routed = await n.route('m');
  routed.lease.succeed();
  assert.equal(routed.attempts, 4, 'three 429s waited out, then the answer (max_attempts is 3)');

  n.calls.length = 0;
  n.failures.set('a', limited(20));
  n.times.delete('a');
  await assert.rejects(n.route('m'), (e: GatewayError) => e.status === 429);
  assert.equal(n.calls.length, 3 + 5, 'max_attempts, plus at most five 429s waited out');
});

test('an upstream 429 whose Retry-After ends past the queue deadline reaches the caller at once, with that Retry-After', async () => {
  const n = node({ a: {} }, { m: { deployments: ['a'] } });
  n.failures.set('a', limited(45_000));
  const started = Date.now();
  await assert.rejects(n.route('m'), (e: GatewayError) => e.status === 429 && e.attempts === 1 && e.retryAfterMs === 45_000);
  assert.ok(Date.now() - started < 500, 'refused to wait, not waited in vain');
  assert.deepEqual(n.calls, ['a']);
});

test('a deployment without configured limits keeps its budget local: nothing to share, no round trip', async () => {
  const shared = new MemoryBudgetBackend();
  let takes = 0;
  const counting = Object.assign(Object.create(shared) as MemoryBudgetBackend, {
    take: (...args: Parameters<MemoryBudgetBackend['take']>) => {
      takes += 1;
      return shared.take(...args);
    },
  });
  const n = node({ a: {} }, { m: { deployments: ['a'] } }, counting);
  const routed = await n.route('m');
  routed.lease.succeed();
  assert.equal(takes, 0);
});

test('a call holds its concurrency slot until its lease ends; the next waiting request goes at once', async () => {
  const n = node({ a: { limits: { max_concurrency: 1 } } }, { m: { deployments: ['a'] } });
  const first = await n.route('m');
  let second: Awaited<ReturnType<typeof n.route>> | undefined;
  const waiting = n.route('m').then((r) => (second = r));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(second, undefined, 'still waiting while the first call is open');
  const ended = Date.now();
  first.lease.succeed();
  await waiting;
  assert.ok(Date.now() - ended < 80, 'woken by the release, not by polling');
  second!.lease.succeed();
});

test('a waiting request whose client leaves gives up its place and takes no budget', async () => {
  const n = node({ a: { limits: { rpm: 60 } } }, { m: { deployments: ['a'] } });
  (await n.route('m')).lease.succeed();
  const signal = new CancelSignal();
  const leaving = n.route('m', signal);
  setTimeout(() => signal.abort(), 50);
  await assert.rejects(leaving, (e: Error) => e.name === 'AbortError');
  assert.equal(n.catalog.waitingRoom.size, 0);
  assert.deepEqual(n.calls, ['a']);
});
