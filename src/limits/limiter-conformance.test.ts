// One suite, every backend: memory on a fake clock (exact to the ms) and Redis for real (the
// server's clock runs while the test does, so waits are checked to within toleranceMs, and
// "admitted at retryAfterMs, refused 100+ ms earlier" is the Redis form of exactness).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshIdentity, LIMITER_BACKENDS, openLimiter, type LimiterUnderTest } from '../../test/support/limits-backends.js';
import { DAY_MS } from './gcra.js';
import type { Admitted, Decision, Refused, TierLimits } from './types.js';

for (const backend of LIMITER_BACKENDS) {
  describe(`rate limiter conformance: ${backend}`, () => {
    let t: LimiterUnderTest;
    before(async () => {
      t = await openLimiter(backend);
    });
    after(() => t.close());

    const decide = (identity: string, limits: TierLimits, estimatedTokens = 0) => t.limiter.decide({ identity, limits, estimatedTokens });
    const admitted = (d: Decision): Admitted => {
      assert.equal(d.allowed, true, `expected admission, got ${JSON.stringify(d)}`);
      return d as Admitted;
    };
    const refused = (d: Decision, limit: Refused['limit']): Refused => {
      assert.equal(d.allowed, false, `expected refusal by ${limit}`);
      assert.equal((d as Refused).limit, limit);
      return d as Refused;
    };
    /** `actual` is `exact`, or (real time passing) up to the backend's tolerance less. */
    const near = (actual: number | null | undefined, exact: number, what: string) => {
      assert.ok(typeof actual === 'number' && actual <= exact && actual >= exact - t.toleranceMs, `${what}: ${actual}, expected ${exact} (-${t.toleranceMs})`);
    };

    test('a burst of the whole rpm is admitted at once, then one request every 60 s / rpm', async () => {
      const id = freshIdentity();
      const limits = { rpm: 30 };
      const burst = await Promise.all(Array.from({ length: 30 }, () => decide(id, limits)));
      assert.ok(burst.every((d) => d.allowed));
      const next = refused(await decide(id, limits), 'requests');
      near(next.retryAfterMs, 2_000, 'retryAfterMs');
      assert.equal(next.budgets.requests!.limit, 30);
      assert.equal(next.budgets.requests!.remaining, 0);
      near(next.budgets.requests!.resetMs, 60_000, 'reset');
      assert.equal(next.budgets.tokens, undefined);
    });

    test(`retry-after is exact (${backend === 'memory' ? 'to the ms' : 'correct to 100 ms'}): refused just before, admitted at it`, async () => {
      const id = freshIdentity();
      const limits = { rpm: 60 };
      await Promise.all(Array.from({ length: 60 }, () => decide(id, limits)));
      const wait = refused(await decide(id, limits), 'requests').retryAfterMs!;
      assert.ok(wait > 800, `wait ${wait}`);
      const early = t.toleranceMs + 1;
      await t.advance(wait - early);
      near(refused(await decide(id, limits), 'requests').retryAfterMs, early, 'the early retry still waits');
      await t.advance(early);
      admitted(await decide(id, limits));
    });

    test('tokens per minute: reserved from the estimate, refused with the exact wait for the excess', async () => {
      const id = freshIdentity();
      const limits = { tpm: 1_000 };
      const first = admitted(await decide(id, limits, 400));
      assert.equal(first.budgets.tokens!.remaining, 600);
      near(first.budgets.tokens!.resetMs, 24_000, 'tokens reset');
      admitted(await decide(id, limits, 399.2)); // estimates round up: 400
      const third = refused(await decide(id, limits, 400), 'tokens');
      near(third.retryAfterMs, 12_000, 'retryAfterMs'); // 200 tokens over, at 60 ms each
      assert.ok(third.budgets.tokens!.remaining >= 200 && third.budgets.tokens!.remaining <= 202);
    });

    test('a request larger than a token limit can ever hold is refused for good, not queued', async () => {
      const tooBig = refused(await decide(freshIdentity(), { tpm: 1_000 }, 1_001), 'tokens');
      assert.equal(tooBig.retryAfterMs, null);
      const tooBigForTheDay = refused(await decide(freshIdentity(), { rpm: 5, daily_tokens: 500 }, 600), 'daily_tokens');
      assert.equal(tooBigForTheDay.retryAfterMs, null);
      admitted(await decide(freshIdentity(), { tpm: 1_000 }, 1_000));
    });

    test('all or nothing: a refusal charges no limit, and the longest wait is the one reported', async () => {
      const id = freshIdentity();
      const limits = { rpm: 2, tpm: 100 };
      for (let i = 0; i < 3; i++) refused(await decide(id, limits, 200), 'tokens');
      admitted(await decide(id, limits, 10));
      admitted(await decide(id, limits, 10));
      refused(await decide(id, limits, 10), 'requests');

      const other = freshIdentity();
      const both = { rpm: 3, concurrency: 1 };
      const held = admitted(await decide(other, both));
      for (let i = 0; i < 3; i++) assert.equal(refused(await decide(other, both), 'concurrency').retryAfterMs, 1_000);
      await held.admission.release();
      await admitted(await decide(other, both)).admission.release();
      admitted(await decide(other, both));
      // Both full now: requests waits ~20 s, concurrency only hints 1 s.
      near(refused(await decide(other, both), 'requests').retryAfterMs, 20_000, 'retryAfterMs');
    });

    test('reconcile: a refund makes room at once; only the first call counts', async () => {
      const id = freshIdentity();
      const limits = { tpm: 1_000 };
      const a = admitted(await decide(id, limits, 600));
      refused(await decide(id, limits, 600), 'tokens');
      await a.admission.reconcile(100);
      admitted(await decide(id, limits, 600));
      await a.admission.reconcile(0); // would refund another 100 if it counted
      refused(await decide(id, limits, 350), 'tokens');
      admitted(await decide(id, limits, 290));
    });

    test('reconcile: over-use is charged even past the limit, once', async () => {
      const id = freshIdentity();
      const limits = { tpm: 1_000 };
      const a = admitted(await decide(id, limits, 100));
      await a.admission.reconcile(1_600);
      await a.admission.reconcile(1_600);
      // 1,600 tokens spent: the next token fits once 601 have refilled, 60 ms each.
      near(refused(await decide(id, limits, 1), 'tokens').retryAfterMs, 36_060, 'retryAfterMs');
    });

    test('concurrency: release frees a slot; a second release of the same admission frees nothing', async () => {
      const id = freshIdentity();
      const limits = { concurrency: 2 };
      const a = admitted(await decide(id, limits));
      const b = admitted(await decide(id, limits));
      refused(await decide(id, limits), 'concurrency');
      await a.admission.release();
      await a.admission.release();
      const c = admitted(await decide(id, limits));
      refused(await decide(id, limits), 'concurrency');
      await Promise.all([b.admission.release(), c.admission.release()]);
      admitted(await decide(id, limits));
      admitted(await decide(id, limits));
    });

    test('daily requests: refused until the next UTC midnight', async () => {
      const id = freshIdentity();
      const limits = { daily_requests: 3, rpm: 100 };
      for (let i = 0; i < 3; i++) admitted(await decide(id, limits));
      const before = t.now();
      const next = refused(await decide(id, limits), 'daily_requests');
      const midnight = (Math.floor(before / DAY_MS) + 1) * DAY_MS;
      near(next.retryAfterMs, midnight - before, 'retryAfterMs');
    });

    test('a request turned away unserved gives back its day\'s count and its tokens, but not its minute\'s request, once', async () => {
      const id = freshIdentity();
      const limits = { daily_requests: 2, rpm: 2, daily_tokens: 1_000 };
      const a = admitted(await decide(id, limits, 400));
      admitted(await decide(id, limits, 400));
      refused(await decide(id, limits, 100), 'daily_requests');
      await a.admission.reconcile(0, { unserved: true });
      await a.admission.reconcile(0, { unserved: true }); // only the first counts
      // The day has room again; the minute's two requests stay spent, so looping is still limited.
      const wait = refused(await decide(id, limits, 600), 'requests').retryAfterMs!;
      await t.advance(wait);
      const c = admitted(await decide(id, limits, 600)); // 400 + 600 tokens: a's 400 came back
      // A served request keeps its day's count, whatever its usage.
      await c.admission.reconcile(0);
      await t.advance(30_000);
      refused(await decide(id, limits, 1), 'daily_requests');
    });

    test('budgets for the x-ratelimit headers: limit, remaining and time until full', async () => {
      const id = freshIdentity();
      const limits = { rpm: 10, tpm: 6_000 };
      let last: Decision | undefined;
      for (let i = 0; i < 3; i++) last = admitted(await decide(id, limits, 100));
      const { requests, tokens } = last!.budgets;
      assert.deepEqual([requests!.limit, requests!.remaining], [10, 7]);
      near(requests!.resetMs, 18_000, 'requests reset');
      assert.equal(tokens!.limit, 6_000);
      assert.ok(tokens!.remaining >= 5_700 && tokens!.remaining <= 5_710, `tokens remaining ${tokens!.remaining}`);
      near(tokens!.resetMs, 3_000, 'tokens reset');
    });

    test('identities are independent; a tier without limits admits everything', async () => {
      const [a, b] = [freshIdentity(), freshIdentity('key')];
      admitted(await decide(a, { rpm: 1 }));
      refused(await decide(a, { rpm: 1 }), 'requests');
      admitted(await decide(b, { rpm: 1 }));
      const free = admitted(await decide(freshIdentity(), {}, 1e9));
      assert.deepEqual(free.budgets, {});
      await free.admission.release();
      await free.admission.reconcile(5);
    });

    test('an estimate that is not a count of tokens is a caller\'s bug: rejected, nothing charged', async () => {
      const id = freshIdentity();
      await assert.rejects(decide(id, { rpm: 1 }, Number.NaN), RangeError);
      await assert.rejects(decide(id, { rpm: 1 }, -1), RangeError);
      admitted(await decide(id, { rpm: 1 }));
    });

    test('200 concurrent callers on one identity: exactly the limit is admitted', async () => {
      for (const limits of [{ daily_requests: 37 }, { rpm: 37 }, { concurrency: 37 }, { tpm: 3_700 }]) {
        const id = freshIdentity();
        const decisions = await Promise.all(Array.from({ length: 200 }, () => decide(id, limits, 100)));
        assert.equal(decisions.filter((d) => d.allowed).length, 37, JSON.stringify(limits));
      }
    });
  });
}
