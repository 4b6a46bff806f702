// The serving order of waiting requests: deficit round robin by tokens within a priority, strict
// priority between tiers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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

test('a request bigger than several quanta is served after the rounds it needs, without looping through them one by one', () => {
  const queue = new FairQueue<Item>(4000);
  queue.push(item('huge', 'x', 40_000));
  queue.push(item('other', 'o1', 4000));
  for (let i = 2; i <= 20; i++) queue.push(item('other', `o${i}`, 4000));
  const order = drain(queue);
  assert.equal(order.indexOf('x'), 9, 'in the tenth round, its own turn coming first in it');
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

test('remove takes a request out anywhere; an emptied client leaves the round and keeps no credit', () => {
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
  assert.deepEqual(queue.ahead({ key: 'light', priority: 0 }, 1000), { requests: 5, tokens: 5000 });
  // The heavy client's own next request waits behind its whole queue.
  assert.equal(queue.ahead({ key: 'heavy', priority: 0 }, 1000).requests, 101);
  // A higher priority than anyone waiting: nothing ahead.
  assert.deepEqual(queue.ahead({ key: 'boss', priority: 50 }, 1000), { requests: 0, tokens: 0 });
});
