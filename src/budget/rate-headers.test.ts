// What upstreams say about their budgets, in OpenAI's and Anthropic's header formats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDurationMs, readRateHeaders } from './rate-headers.js';

test('OpenAI durations', () => {
  assert.equal(parseDurationMs('20ms'), 20);
  assert.equal(parseDurationMs('1.5s'), 1500);
  assert.equal(parseDurationMs('6m0s'), 360_000);
  assert.equal(parseDurationMs('1h2m3s'), 3_723_000);
  assert.equal(parseDurationMs('7'), 7000);
  assert.equal(parseDurationMs('soon'), undefined);
  assert.equal(parseDurationMs('3s and more'), undefined);
});

test('x-ratelimit-* headers, as OpenAI and the simulator send them', () => {
  assert.deepEqual(readRateHeaders({
    'x-ratelimit-limit-requests': '10000', 'x-ratelimit-remaining-requests': '9998', 'x-ratelimit-reset-requests': '12ms',
    'x-ratelimit-limit-tokens': '10000000', 'x-ratelimit-remaining-tokens': '9999000', 'x-ratelimit-reset-tokens': '6m0s',
  }), {
    requests: { remaining: 9998, resetMs: 12, limit: 10_000 },
    tokens: { remaining: 9_999_000, resetMs: 360_000, limit: 10_000_000 },
  });
});

test('anthropic-ratelimit-* headers, resets as RFC 3339 times', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.deepEqual(readRateHeaders({
    'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:02Z',
  }, now), { requests: { remaining: 0, resetMs: 2000, limit: 50 } });
});

test('nothing usable: no report, and a malformed header is left out rather than guessed', () => {
  assert.equal(readRateHeaders({ 'content-type': 'application/json' }), undefined);
  assert.equal(readRateHeaders({ 'x-ratelimit-remaining-requests': 'many', 'x-ratelimit-reset-requests': '1s' }), undefined);
  assert.deepEqual(readRateHeaders({ 'x-ratelimit-remaining-requests': '3', 'x-ratelimit-reset-requests': '1s', 'x-ratelimit-limit-requests': 'x' }), {
    requests: { remaining: 3, resetMs: 1000 },
  });
});
