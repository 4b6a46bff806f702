// Properties of the memory GCRA over random traffic (time advances and request sizes):
// - never more than burst + elapsed / interval admitted in any window, for requests and tokens;
// - a refusal's retryAfterMs is exact: one ms earlier it is still refused, at it admitted;
// - only a request larger than the limit is refused for good.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fakeClock } from '../../test/support/limits-backends.js';
import { WINDOW_MS } from './gcra.js';
import { MemoryLimiter } from './memory-store.js';
import type { Refused } from './types.js';

const step = fc.record({
  advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 20_000 })),
  /** Tokens as a share of the limit (1.05: slightly more than can ever fit). */
  share: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1.05, noNaN: true })),
  retryAtWait: fc.boolean(),
});

/** In every window [i, j] of admissions: (units - limit) * W <= (t_j - t_i) * limit. */
function assertWindowBound(admitted: Array<{ at: number; units: number }>, limit: number, what: string): void {
  for (let i = 0; i < admitted.length; i++) {
    let units = 0;
    for (let j = i; j < admitted.length; j++) {
      units += admitted[j]!.units;
      const elapsed = admitted[j]!.at - admitted[i]!.at;
      assert.ok((units - limit) * WINDOW_MS <= elapsed * limit, `${what}: ${units} admitted in ${elapsed} ms with limit ${limit}`);
    }
  }
}

test('memory GCRA: never more than burst + elapsed / interval in any window, and every retryAfterMs is exact', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 100_000 }), fc.array(step, { maxLength: 120 }), (rpm, tpm, steps) => {
      const clock = fakeClock(Date.UTC(2030, 0, 15, 12));
      const limiter = new MemoryLimiter({ clock: clock.now });
      const limits = { rpm, tpm };
      const admitted: Array<{ at: number; tokens: number }> = [];
      const decide = (tokens: number) => {
        const decision = limiter.decideNow({ identity: 'ip:1', limits, estimatedTokens: tokens });
        if (decision.allowed) admitted.push({ at: clock.now(), tokens });
        return decision;
      };
      for (const { advanceMs, share, retryAtWait } of steps) {
        clock.advance(advanceMs);
        const tokens = Math.round(share * tpm);
        const decision = decide(tokens);
        if (decision.allowed) continue;
        const { retryAfterMs } = decision as Refused;
        assert.equal(retryAfterMs === null, tokens > tpm, 'refused for good exactly when larger than the limit');
        if (retryAfterMs === null || !retryAtWait) continue;
        assert.ok(retryAfterMs > 0);
        const refusedAt = clock.now();
        clock.set(refusedAt + retryAfterMs - 1);
        assert.equal(decide(tokens).allowed, false, 'one ms before retryAfterMs');
        clock.set(refusedAt + retryAfterMs);
        assert.equal(decide(tokens).allowed, true, 'at retryAfterMs');
      }
      assertWindowBound(admitted.map((a) => ({ at: a.at, units: 1 })), rpm, 'requests');
      assertWindowBound(admitted.map((a) => ({ at: a.at, units: a.tokens })), tpm, 'tokens');
    }),
    { numRuns: 300 },
  );
});
