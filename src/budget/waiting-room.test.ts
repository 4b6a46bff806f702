// The waiting room with a scripted budget: who gets budget first, early refusals with a Retry-After
// from the queue, deadlines, bounds, and requests whose clients leave.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CancelSignal } from '../core/cancel.js';
import { GatewayError } from '../core/errors.js';
import type { QueueClient } from './fair-queue.js';
import { WaitingRoom, type Attempt, type WaitingRoomSettings, type WaitRequest } from './waiting-room.js';

const SETTINGS: WaitingRoomSettings = { deadline_ms: 30_000, max_per_client: 200, max_total: 2000, quantum_tokens: 4000 };
const flush = () => new Promise((r) => setImmediate(r));
const UNLIMITED = { requests: Infinity, tokens: Infinity };

/** A budget the test hands out one call at a time; looks while it is empty wait 20 s (within the deadline). */
function scripted(room: WaitingRoom, emptyWaitMs = 20_000) {
  let capacity = 0;
  const served: string[] = [];
  const discarded: string[] = [];
  const request = (id: string, client: QueueClient, extra: Partial<WaitRequest<string>> = {}): WaitRequest<string> => ({
    pool: 'p', deployments: ['d'], model: 'm', client, cost: 1000, signal: new CancelSignal(), deadlineAt: room.deadline(),
    refill: UNLIMITED, first: { readyInMs: 20_000, reason: 'budget' },
    attempt: async (): Promise<Attempt<string>> => {
      if (capacity <= 0) return { kind: 'wait', readyInMs: emptyWaitMs, reason: 'budget' };
      capacity--;
      served.push(id);
      return { kind: 'granted', value: id };
    },
    discard: (id) => discarded.push(id),
    ...extra,
  });
  return {
    served, discarded, request,
    async release(n = 1) {
      for (let i = 0; i < n; i++) {
        capacity++;
        room.poke('d');
        await flush();
      }
    },
  };
}

test('a heavy client with 100 waiting and ten light clients with one each: the light ones go in the first round', async () => {
  const room = new WaitingRoom(SETTINGS);
  const s = scripted(room);
  const all: Array<Promise<string>> = [];
  for (let i = 0; i < 100; i++) all.push(room.wait(s.request(`h${i}`, { key: 'heavy', priority: 0 })));
  for (let i = 0; i < 10; i++) all.push(room.wait(s.request(`l${i}`, { key: `light${i}`, priority: 0 })));
  assert.equal(room.size, 110);
  await s.release(14);
  const lights = s.served.filter((id) => id.startsWith('l'));
  assert.equal(lights.length, 10, `served first: ${s.served.join(' ')}`);
  await s.release(96);
  assert.equal((await Promise.all(all)).length, 110);
  assert.equal(room.size, 0);
  assert.ok(room.isIdle('p'), 'an empty pool closes, timers and all');
});

test('a higher tier waiting is served before anyone of a lower one', async () => {
  const room = new WaitingRoom(SETTINGS);
  const s = scripted(room);
  const waits = [
    room.wait(s.request('free1', { key: 'a', priority: 0 })),
    room.wait(s.request('free2', { key: 'b', priority: 0 })),
    room.wait(s.request('paid', { key: 'c', priority: 10 })),
  ];
  await s.release(3);
  await Promise.all(waits);
  assert.deepEqual(s.served, ['paid', 'free1', 'free2']);
});

test('refused on arrival when its turn would come after its deadline, with a Retry-After from the queue', async () => {
  const room = new WaitingRoom({ ...SETTINGS, deadline_ms: 2500 });
  const s = scripted(room, 1000);
  // One call a second (rpm 60); budget back in 1 s.
  const rpm60 = { refill: { requests: 1 / 1000, tokens: Infinity }, first: { readyInMs: 1000, reason: 'budget' as const } };
  const waiting = [0, 1].map((i) => room.wait(s.request(`w${i}`, { key: `c${i}`, priority: 0 }, rpm60)));
  const started = Date.now();
  const refused = await room.wait(s.request('late', { key: 'c9', priority: 0 }, rpm60)).catch((e: unknown) => e);
  assert.ok(Date.now() - started < 100, 'at once, not after waiting');
  assert.ok(refused instanceof GatewayError);
  assert.equal(refused.status, 429);
  assert.equal(refused.code, 'upstream_budget_exhausted');
  assert.equal(refused.retryAfterSeconds, 3, 'budget in 1 s, then two calls ahead of it at one a second');
  assert.match(refused.message, /model 'm'.*deadline of 3 s.*estimated wait 3 s/);
  // A request that fits keeps waiting and is served.
  await s.release(2);
  assert.deepEqual(await Promise.all(waiting), ['w0', 'w1']);
});

test('an upstream Retry-After past the deadline is refused as the upstream\'s rate limit', async () => {
  const room = new WaitingRoom({ ...SETTINGS, deadline_ms: 1000 });
  const s = scripted(room);
  const error = await room.wait(s.request('x', { key: 'a', priority: 0 }, { first: { readyInMs: 7000, reason: 'rate_limited' } })).catch((e: unknown) => e);
  assert.ok(error instanceof GatewayError);
  assert.equal(error.code, 'upstream_rate_limited');
  assert.equal(error.retryAfterSeconds, 7);
});

test('a request whose turn does not come by its deadline leaves then, with 429 and a Retry-After', async () => {
  const room = new WaitingRoom({ ...SETTINGS, deadline_ms: 150 });
  const s = scripted(room);
  const first = { readyInMs: 100, reason: 'budget' as const };
  const started = Date.now();
  const error = await room.wait(s.request('x', { key: 'a', priority: 0 }, { first })).catch((e: unknown) => e);
  const waited = Date.now() - started;
  assert.ok(error instanceof GatewayError && error.code === 'upstream_budget_exhausted', String(error));
  assert.ok(error.retryAfterSeconds! >= 1);
  assert.ok(waited >= 100 && waited < 1000, `left after ${waited} ms`);
  assert.equal(room.size, 0);
});

test('the head is refused as soon as its budget is known to come too late, not at its deadline', async () => {
  const room = new WaitingRoom({ ...SETTINGS, deadline_ms: 5000 });
  const s = scripted(room);
  let looks = 0;
  const started = Date.now();
  const error = await room.wait(s.request('x', { key: 'a', priority: 0 }, {
    first: { readyInMs: 20, reason: 'budget' },
    // Budget should be back in 20 ms; when looked at, it is another minute away.
    attempt: async () => (looks++, { kind: 'wait', readyInMs: 60_000, reason: 'budget' }),
  })).catch((e: unknown) => e);
  assert.ok(error instanceof GatewayError && error.code === 'upstream_budget_exhausted');
  assert.equal(error.retryAfterSeconds, 60);
  assert.equal(looks, 1);
  assert.ok(Date.now() - started < 1000);
});

test('bounded: over max_per_client is 429 at once, over max_total 503 at once', async () => {
  const room = new WaitingRoom({ ...SETTINGS, max_per_client: 2, max_total: 3 });
  const s = scripted(room);
  const signals = [new CancelSignal(), new CancelSignal(), new CancelSignal()];
  const waits = [
    room.wait(s.request('a1', { key: 'a', priority: 0 }, { signal: signals[0]! })),
    room.wait(s.request('a2', { key: 'a', priority: 0 }, { signal: signals[1]! })),
  ];
  const perClient = await room.wait(s.request('a3', { key: 'a', priority: 0 })).catch((e: unknown) => e);
  assert.ok(perClient instanceof GatewayError);
  assert.equal(perClient.status, 429);
  assert.equal(perClient.code, 'too_many_waiting_requests');
  waits.push(room.wait(s.request('b1', { key: 'b', priority: 0 }, { signal: signals[2]! })));
  const total = await room.wait(s.request('c1', { key: 'c', priority: 0 })).catch((e: unknown) => e);
  assert.ok(total instanceof GatewayError);
  assert.equal(total.status, 503);
  assert.equal(total.code, 'queue_full');
  assert.ok(total.retryAfterSeconds! >= 1);
  for (const signal of signals) signal.abort();
  await Promise.allSettled(waits);
  assert.equal(room.size, 0);
});

test('a client that disconnects leaves the queue; the one behind it is served next', async () => {
  const room = new WaitingRoom(SETTINGS);
  const s = scripted(room);
  const signal = new CancelSignal();
  const gone = room.wait(s.request('gone', { key: 'a', priority: 0 }, { signal }));
  const next = room.wait(s.request('next', { key: 'b', priority: 0 }));
  assert.equal(room.size, 2);
  signal.abort();
  await assert.rejects(gone, (e: Error) => e.name === 'AbortError');
  assert.equal(room.size, 1);
  await s.release();
  assert.equal(await next, 'next');
  assert.deepEqual(s.served, ['next']);
});

test('budget granted to a request that left meanwhile is given back', async () => {
  const room = new WaitingRoom(SETTINGS);
  const s = scripted(room);
  const signal = new CancelSignal();
  const leaving = room.wait(s.request('x', { key: 'a', priority: 0 }, {
    signal,
    attempt: async () => {
      signal.abort(); // the client leaves while its budget is being taken
      return { kind: 'granted', value: 'x' };
    },
  }));
  room.poke('d');
  await assert.rejects(leaving);
  await flush();
  assert.deepEqual(s.discarded, ['x']);
  assert.equal(room.size, 0);
});

test('woken by its timer when budget is due, and by nothing else', async () => {
  const room = new WaitingRoom(SETTINGS);
  let ready = Date.now() + 50;
  const started = Date.now();
  const value = await room.wait<string>({
    pool: 'p', deployments: ['d'], model: 'm', client: { key: 'a', priority: 0 }, cost: 1, signal: new CancelSignal(),
    deadlineAt: room.deadline(), refill: UNLIMITED, first: { readyInMs: 50, reason: 'budget' },
    attempt: async () => (Date.now() >= ready ? { kind: 'granted', value: 'ok' } : { kind: 'wait', readyInMs: ready - Date.now(), reason: 'budget' }),
    discard: () => {},
  });
  assert.equal(value, 'ok');
  assert.ok(Date.now() - started >= 45);
  ready = 0;
});

test('nothing left to serve it (every deployment down): the waiter leaves with that error', async () => {
  const room = new WaitingRoom(SETTINGS);
  const s = scripted(room);
  const down = new GatewayError('down', { status: 503, type: 'service_unavailable', code: 'no_deployment_available' });
  const waiting = room.wait(s.request('x', { key: 'a', priority: 0 }, { attempt: async () => ({ kind: 'none', error: down }) }));
  room.poke('d');
  await assert.rejects(waiting, (e: unknown) => e === down);
});
