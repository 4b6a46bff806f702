import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeploymentState } from '../deployment-state.js';
import { STRATEGY_ORDER, type Candidate } from './index.js';

function candidate(name: string, state: Partial<DeploymentState> = {}, weight = 1): Candidate {
  return { state: { name, inFlight: 0, latencyMs: undefined, lastSampleAt: 0, ...state } as DeploymentState, weight };
}
const names = (list: Candidate[]): string[] => list.map((c) => c.state.name);

test('priority keeps the configured order', () => {
  const list = [candidate('a'), candidate('b'), candidate('c')];
  assert.deepEqual(names(STRATEGY_ORDER.priority(list, { random: Math.random, now: 0 })), ['a', 'b', 'c']);
});

test('weighted picks first in proportion to weight', () => {
  const list = [candidate('a', {}, 3), candidate('b', {}, 1)];
  let first = 0;
  const runs = 20_000;
  for (let i = 0; i < runs; i++) if (STRATEGY_ORDER.weighted(list, { random: Math.random, now: 0 })[0]!.state.name === 'a') first++;
  assert.ok(Math.abs(first / runs - 0.75) < 0.02, `a first ${first / runs}`);
});

test('least-in-flight prefers the idlest deployment relative to its weight', () => {
  const list = [candidate('busy', { inFlight: 9 }), candidate('idle', { inFlight: 2 }), candidate('big', { inFlight: 5 }, 4)];
  assert.deepEqual(names(STRATEGY_ORDER['least-in-flight'](list, { random: Math.random, now: 0 })), ['big', 'idle', 'busy']);
});

test('lowest-latency prefers the fastest average, but tries a deployment with no recent sample first', () => {
  const now = 100_000;
  const fast = candidate('fast', { latencyMs: 50, lastSampleAt: now - 1000 });
  const slow = candidate('slow', { latencyMs: 400, lastSampleAt: now - 1000 });
  assert.deepEqual(names(STRATEGY_ORDER['lowest-latency']([slow, fast], { random: Math.random, now })), ['fast', 'slow']);
  const stale = candidate('stale', { latencyMs: 900, lastSampleAt: now - 60_000 });
  assert.equal(STRATEGY_ORDER['lowest-latency']([slow, fast, stale], { random: Math.random, now })[0]!.state.name, 'stale');
});
