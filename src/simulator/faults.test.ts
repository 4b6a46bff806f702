import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultSpecError, parseFaults, planFaults, splitModelFault } from './faults.js';

test('the fault grammar parses kinds, arguments and probabilities', () => {
  assert.deepEqual(parseFaults('429:7;p=0.3'), [{ kind: '429', arg: 7, probability: 0.3 }]);
  assert.deepEqual(parseFaults('slow-first-byte:250, cut:3'), [
    { kind: 'slow-first-byte', arg: 250, probability: 1 },
    { kind: 'cut', arg: 3, probability: 1 },
  ]);
  assert.deepEqual(parseFaults('reset'), [{ kind: 'reset', arg: undefined, probability: 1 }]);
});

test('bad specs are rejected with a reason', () => {
  for (const bad of ['teapot', 'cut', 'reset:3', '429:abc', '500;p=2', '500;q=1', 'slow-loris:-1']) {
    assert.throws(() => parseFaults(bad), FaultSpecError, bad);
  }
});

test('a model suffix carries a fault spec and the base name', () => {
  assert.deepEqual(splitModelFault('sim-chat@fault=429:7;p=0.3'), { model: 'sim-chat', fault: '429:7;p=0.3' });
  assert.deepEqual(splitModelFault('sim-chat'), { model: 'sim-chat' });
});

test('planning rolls each probability and folds the survivors', () => {
  const specs = parseFaults('slow-first-byte:100,503:2;p=0.5,malformed');
  const rolled = planFaults(specs, () => 0.9);
  assert.deepEqual(rolled, { firstByteDelayMs: 100, reset: false, malformedAfter: 1 });
  const hit = planFaults(specs, () => 0.1);
  assert.deepEqual(hit?.error, { kind: '503', retryAfterSeconds: 2 });
  assert.equal(planFaults(parseFaults('500;p=0'), () => 0), undefined);
  assert.equal(planFaults(parseFaults('429,500'))?.error?.kind, '429', 'the first error fault wins');
});
