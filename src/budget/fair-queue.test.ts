// The serving order of waiting requests: deficit round robin by tokens within a priority (as
// FQ-CoDel runs it: new clients first, debts carried), strict priority between tiers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FairQueue, type QueueClient } from './fair-queue.js';

interface Item {
  client: QueueClient;
  cost: number;
  id: string;
}

const item = (key: string, id: string, cost = 1000, priority = 0): Item => ({ client: { key, priority }, cost, id });

function drain(queue: FairQueue<Item>, count = Infinity): string[] {
  const order: string[] = [];
  while (order.length < count) {
    const next = queue.peek();
    if (!next) break;
    assert.equal(queue.peek(), next, 'peeking twice gives the same request');
    queue.shift(next);
    order.push(next.id);
  }
  return order;
}

test('a heavy client with 100 queued cannot starve ten light clients: they are all served in the first round', () => {
  const queue = new FairQueue<Item>(4000);
  for (let i = 0; i < 100; i++) queue.push(item('heavy', `h${i}`));
  for (let i = 0; i < 10; i++) queue.push(item(`light${i}`, `l${i}`));
  const first = drain(queue, 14);
  assert.deepEqual(first, ['h0', 'h1', 'h2', 'h3', ...Array.from({ length: 10 }, (_, i) => `l${i}`)], 'one quantum for the heavy one, then each light one');
  assert.equal(queue.size, 96);
  assert.deepEqual(drain(queue), Array.from({ length: 96 }, (_, i) => `h${i + 4}`));
});

test('shares are by tokens: a client of big requests gets as many tokens per round as one of small requests', () => {
  const queue = new FairQueue<Item>(4000);
  for (let i = 0; i < 20; i++) queue.push(item('small', `s${i}`, 500));
  for (let i = 0; i < 5; i++) queue.push(item('big', `b${i}`, 4000));
  const order = drain(queue, 18);
  assert.equal(order.filter((id) => id.startsWith('s')).length, 16, '2 rounds x 8 small');
  assert.equal(order.filter((id) => id.startsWith('b')).length, 2, '2 rounds x 1 big');
});

test('a request bigger than its turn still goes, and its debt skips the client\'s next turns', () => {
  const queue = new FairQueue<Item>(4000);
  queue.push(item('huge', 'x1', 40_000));
  queue.push(item('huge', 'x2', 1000));
  for (let i = 1; i <= 20; i++) queue.push(item('other', `o${i}`, 4000));
  const order = drain(queue);
  assert.equal(order[0], 'x1', 'a new client\'s first request goes in its first turn, whatever its size');
  // 36,000 tokens of debt: nine more turns of 4,000 pass before it is in credit again, and the
  // other client sends its 4,000 in each of them (and in the first turn).
  assert.equal(order.indexOf('x2'), 11);
});

test('strict priority: a higher tier is served first whatever the round', () => {
  const queue = new FairQueue<Item>(4000);
  queue.push(item('free', 'f1', 1000, 0));
  queue.push(item('free', 'f2', 1000, 0));
  assert.equal(drain(queue, 1)[0], 'f1');
  queue.push(item('paid', 'p1', 1000, 10));
  queue.push(item('team', 't1', 1000, 5));
  assert.deepEqual(drain(queue), ['p1', 't1', 'f2']);
});

test('remove takes a request out anywhere, and only once', () => {
  const queue = new FairQueue<Item>(4000);
  const a = item('a', 'a1');
  const b1 = item('b', 'b1');
  const b2 = item('b', 'b2');
  queue.push(a);
  queue.push(b1);
  queue.push(b2);
  assert.equal(queue.sizeOf('b'), 2);
  assert.equal(queue.remove(b1), true);
  assert.equal(queue.remove(b1), false);
  assert.equal(queue.sizeOf('b'), 1);
  assert.equal(queue.remove(a), true);
  assert.deepEqual(drain(queue), ['b2']);
  assert.equal(queue.size, 0);
  assert.equal(queue.peek(), undefined);
});

test('ahead: what a new request waits behind, for the early estimate', () => {
  const queue = new FairQueue<Item>(4000);
  for (let i = 0; i < 100; i++) queue.push(item('heavy', `h${i}`));
  queue.push(item('vip', 'v', 1000, 10));
  // A new light client: the vip first, then about one round of the heavy client.
  assert.deepEqual(queue.ahead({ key: 'light', priority: 0 }), { requests: 5, tokens: 5000 });
  // The heavy client's own next request waits behind its whole queue.
  assert.equal(queue.ahead({ key: 'heavy', priority: 0 }).requests, 101);
  // A higher priority than anyone waiting: nothing ahead.
  assert.deepEqual(queue.ahead({ key: 'boss', priority: 50 }), { requests: 0, tokens: 0 });
});

test('a client that starts waiting is served before the rest of a backlog turn already under way', () => {
  const queue = new FairQueue<Item>(4000);
  for (let i = 0; i < 100; i++) queue.push(item('heavy', `h${i}`));
  assert.equal(drain(queue, 6).at(-1), 'h5', 'the heavy client had its first turn (4) and is in its second');
  queue.push(item('light', 'l0'));
  assert.deepEqual(drain(queue, 1), ['l0'], 'the new one does not wait for the rest of that turn');
  assert.deepEqual(drain(queue, 2), ['h6', 'h7']);
});

test('a new client has one turn first; what it has left waits its place in the round', () => {
  const queue = new FairQueue<Item>(2000);
  for (let i = 0; i < 10; i++) queue.push(item('heavy', `h${i}`));
  assert.deepEqual(drain(queue, 3), ['h0', 'h1', 'h2'], 'first turn of two, then a second turn begins');
  for (let i = 0; i < 4; i++) queue.push(item('burst', `b${i}`));
  assert.deepEqual(drain(queue, 7), ['b0', 'b1', 'h3', 'b2', 'b3', 'h4', 'h5']);
});

test('a client emptied in its first turn is not new again until its place in the round has come up', () => {
  const queue = new FairQueue<Item>(1000);
  for (let i = 0; i < 10; i++) queue.push(item('heavy', `h${i}`));
  assert.deepEqual(drain(queue, 1), ['h0']);
  queue.push(item('pinger', 'p0'));
  assert.deepEqual(drain(queue, 1), ['p0'], 'new: served first');
  queue.push(item('pinger', 'p1'));
  assert.deepEqual(drain(queue, 3), ['h1', 'h2', 'p1'], 'sent again at once: it waits its place in the round');
  assert.deepEqual(drain(queue, 2), ['h3', 'h4'], 'its place comes up while it is empty: it leaves the round');
  queue.push(item('pinger', 'p2'));
  assert.deepEqual(drain(queue, 1), ['p2'], 'new again');
  assert.equal(queue.size, 5);
});

test('ahead: a new client waits only for the clients in their first turn, not for the round', () => {
  const queue = new FairQueue<Item>(4000);
  for (let i = 0; i < 100; i++) queue.push(item('heavy', `h${i}`));
  drain(queue, 4); // the heavy client's first turn is over: it is in the round
  queue.push(item('other', 'o1'));
  assert.deepEqual(queue.ahead({ key: 'light', priority: 0 }), { requests: 1, tokens: 1000 });
  // The heavy client's next request waits behind its own queue and the newcomer's turn.
  assert.deepEqual(queue.ahead({ key: 'heavy', priority: 0 }), { requests: 97, tokens: 97_000 });
});

test('property: whatever the pushes, removals and serving, every request is served once, each client in its own order', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('push' as const), client: fc.integer({ min: 0, max: 4 }), cost: fc.integer({ min: 1, max: 9000 }) }),
    fc.record({ kind: fc.constant('serve' as const) }),
    fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 500, max: 5000 }), fc.array(op, { maxLength: 200 }), (quantum, ops) => {
      const queue = new FairQueue<Item>(quantum);
      const waiting: Item[] = [];
      const served: Item[] = [];
      let n = 0;
      for (const o of ops) {
        if (o.kind === 'push') {
          // One priority per client, as a client has one tier.
          const entry = item(`c${o.client}`, `r${n++}`, o.cost, o.client % 3);
          queue.push(entry);
          waiting.push(entry);
        } else if (o.kind === 'serve') {
          const next = queue.peek();
          assert.equal(next === undefined, waiting.length === 0);
          if (next) {
            queue.shift(next);
            served.push(next);
            waiting.splice(waiting.indexOf(next), 1);
          }
        } else if (waiting.length > 0) {
          const gone = waiting.splice(o.pick % waiting.length, 1)[0]!;
          assert.equal(queue.remove(gone), true);
        }
        assert.equal(queue.size, waiting.length);
      }
      for (let next = queue.peek(); next; next = queue.peek()) {
        queue.shift(next);
        served.push(next);
      }
      assert.equal(served.length, new Set(served).size, 'none twice');
      assert.equal(queue.size, 0);
      for (const key of new Set(served.map((s) => s.client.key))) {
        const ids = served.filter((s) => s.client.key === key).map((s) => Number(s.id.slice(1)));
        assert.deepEqual(ids, [...ids].sort((a, b) => a - b), `client ${key} in its own order`);
      }
    }),
  );
});
