import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatResetDuration, rateLimitError, rateLimitHeaders } from './headers.js';
import type { Refused } from './types.js';

test('reset durations are written the way OpenAI writes them', () => {
  const cases: Array<[number, string]> = [
    [0, '0s'], [-5, '0s'], [0.2, '1ms'], [20, '20ms'], [999, '999ms'], [1_000, '1s'], [1_500, '1.5s'], [59_200, '59.2s'],
    [59_999, '59.999s'], [60_000, '1m0s'], [360_000, '6m0s'], [61_250, '1m1.25s'], [3_600_000, '1h0m0s'], [86_399_999, '23h59m59.999s'],
  ];
  for (const [ms, text] of cases) assert.equal(formatResetDuration(ms), text, `${ms} ms`);
});

test('x-ratelimit headers for the budgets a tier enforces, none for the others', () => {
  assert.deepEqual(rateLimitHeaders({ requests: { limit: 20, remaining: 19, resetMs: 3_000 }, tokens: { limit: 40_000, remaining: 39_000, resetMs: 1_500 } }), {
    'x-ratelimit-limit-requests': '20', 'x-ratelimit-remaining-requests': '19', 'x-ratelimit-reset-requests': '3s',
    'x-ratelimit-limit-tokens': '40000', 'x-ratelimit-remaining-tokens': '39000', 'x-ratelimit-reset-tokens': '1.5s',
  });
  assert.deepEqual(rateLimitHeaders({}), {});
});

test('a refusal becomes a 429 with Retry-After; one that can never fit, a 400 no client retries', () => {
  const refused = (limit: Refused['limit'], retryAfterMs: number | null): Refused => ({ allowed: false, limit, retryAfterMs, budgets: {}, backend: 'memory' });
  const request = { identity: 'ip:203.0.113.7', limits: { rpm: 20, tpm: 40_000 }, estimatedTokens: 50_000 };
  const wait = rateLimitError(refused('requests', 2_500), request);
  assert.deepEqual([wait.status, wait.type, wait.code, wait.retryable, wait.retryAfterSeconds, wait.retryAfterMs], [429, 'rate_limit_error', 'rate_limit_exceeded', true, 3, 2_500]);
  assert.match(wait.message, /requests per minute: limit 20\. Please try again in 2\.5s/);
  const never = rateLimitError(refused('tokens', null), request);
  assert.deepEqual([never.status, never.code, never.retryable, never.retryAfterSeconds], [400, 'request_too_large_for_limit', false, undefined]);
  assert.match(never.message, /50000 tokens .* 40000 tokens per minute/);
});
