// node --test bench/lib/fairness-report.test.mjs
// The fairness benchmark's judgements: which refusals count as upstream 429s passed on, Jain's
// index, the upstream's budget, and the light schedule being the same in both phases.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeSchedule } from './fairness-load.mjs';
import { jain, refusalClass, summarizePhase } from './fairness-report.mjs';
import { UpstreamBucket } from './fairness-upstream.mjs';

const rec = (fields) => ({ kind: 'light', client: 0, atMs: 0, status: 429, code: null, attempts: null, ok: false, latencyMs: 1, ...fields });

test('an upstream 429 is passed on only when the gateway made a call for it', () => {
  assert.equal(refusalClass(rec({ code: 'upstream_rate_limited', attempts: 1 })), 'upstream 429 passed on');
  // The queue declining to wait out an upstream Retry-After: no call, attempts 0.
  assert.equal(refusalClass(rec({ code: 'upstream_rate_limited', attempts: 0 })), 'queue');
  assert.equal(refusalClass(rec({ code: 'rate_limit_exceeded' })), 'client limit');
  for (const code of ['upstream_budget_exhausted', 'too_many_waiting_requests', 'queue_full']) assert.equal(refusalClass(rec({ code })), 'queue');
  assert.equal(refusalClass(rec({ ok: true, status: 200 })), 'served');
});

test("Jain's index: 1 when equal, 1/n when one client takes everything", () => {
  assert.equal(jain([0.5, 0.5, 0.5]), 1);
  assert.equal(jain([1, 0, 0, 0]), 0.25);
  assert.equal(jain([]), null);
});

test('entitlement caps the heavy client at its quota', () => {
  const records = [
    rec({ ok: true, status: 200 }),
    ...Array.from({ length: 3 }, () => rec({ kind: 'heavy', client: 'heavy', ok: true, status: 200 })),
    ...Array.from({ length: 7 }, () => rec({ kind: 'heavy', client: 'heavy', code: 'rate_limit_exceeded' })),
  ];
  const s = summarizePhase({ records, quota: 3 });
  assert.deepEqual([s.heavy.sent, s.heavy.admitted, s.heavy.served], [10, 3, 3]);
  assert.equal(s.jainEntitled, 1);
});

test('the upstream lets a second of budget out at once, then one call per 60,000/rpm ms', () => {
  const bucket = new UpstreamBucket(600, 1000); // 10 a second, 100 ms apart
  let ok = 0;
  for (let i = 0; i < 20; i++) if (bucket.take(0).ok) ok++;
  assert.equal(ok, 10);
  const refused = bucket.take(50);
  assert.equal(refused.ok, false);
  assert.ok(Math.abs(refused.waitMs - 50) < 1e-6);
  assert.equal(bucket.take(100).ok, true);
});

test('the light clients send the same schedule with and without the heavy client', () => {
  const args = { seed: 3, lightClients: 10, lightRate: 0.5, heavyRate: 50, seconds: 20 };
  const alone = makeSchedule({ ...args, withHeavy: false });
  const mixed = makeSchedule({ ...args, withHeavy: true }).filter((e) => e.kind === 'light');
  assert.deepEqual(mixed, alone);
  assert.ok(alone.length > 50 && alone.length < 150);
});
