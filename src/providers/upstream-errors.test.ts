import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fromUpstreamStatus, scrubUpstreamText } from './upstream-errors.js';

test('upstream text keeps its meaning but loses URLs, keys and account ids', () => {
  const text = 'Rate limit reached for gpt-4o in organization org-AbC123xyz789 on tokens per min. Limit 30000. Visit https://platform.openai.com/account/rate-limits?x=1 to learn more. Key sk-proj-abcdefghijklmnop used; Bearer abc.def';
  const clean = scrubUpstreamText(text);
  assert.match(clean, /Rate limit reached for gpt-4o/);
  assert.match(clean, /Limit 30000/);
  for (const secret of ['org-AbC123xyz789', 'https://', 'sk-proj-abcdefghijklmnop', 'abc.def']) assert.ok(!clean.includes(secret), secret);
  assert.ok(scrubUpstreamText('x'.repeat(5000)).length <= 501);
});

test('status mapping: the caller\'s fault stays 400, upstream trouble becomes 502/503 with retryable set', () => {
  const body = { error: { message: "This model's maximum context length is 16384 tokens.", code: 'context_length_exceeded', param: 'messages' } };
  const bad = fromUpstreamStatus('dep', 400, {}, body);
  assert.equal(bad.status, 400);
  assert.equal(bad.code, 'context_length_exceeded');
  assert.equal(bad.param, 'messages');
  assert.equal(bad.retryable, false);

  const limited = fromUpstreamStatus('dep', 429, { 'retry-after-ms': '1500' }, {});
  assert.equal(limited.status, 429);
  assert.equal(limited.retryAfterSeconds, 2);
  assert.equal(limited.retryable, true);

  assert.equal(fromUpstreamStatus('dep', 401, {}, {}).status, 502);
  assert.equal(fromUpstreamStatus('dep', 529, {}, {}).status, 503);
  const down = fromUpstreamStatus('dep', 500, { 'retry-after': '3' }, { error: 'boom at http://10.0.0.5:8000/v1' });
  assert.equal(down.status, 502);
  assert.equal(down.retryAfterSeconds, 3);
  assert.ok(!down.message.includes('10.0.0.5'));
  assert.match(down.message, /dep/);
});

test('retry-after-ms is kept exact for the router; the caller still gets whole seconds', () => {
  const precise = fromUpstreamStatus('dep', 429, { 'retry-after-ms': '250', 'retry-after': '1' }, undefined);
  assert.equal(precise.retryAfterMs, 250);
  assert.equal(precise.retryAfterSeconds, 1);
  const seconds = fromUpstreamStatus('dep', 503, { 'retry-after': '3' }, undefined);
  assert.equal(seconds.retryAfterMs, 3000);
  assert.equal(seconds.retryAfterSeconds, 3);
  const date = fromUpstreamStatus('dep', 429, { 'retry-after': new Date(Date.now() + 5000).toUTCString() }, undefined);
  assert.ok(date.retryAfterSeconds! >= 4 && date.retryAfterSeconds! <= 5);
});

test('an upstream account out of credit is a deployment fault (502 upstream_billing), never the caller\'s 400', () => {
  const anthropic = fromUpstreamStatus('dep', 400, {}, { type: 'error', error: { type: 'invalid_request_error', message: 'Your credit balance is too low to access the Anthropic API.' } });
  const openai = fromUpstreamStatus('dep', 429, {}, { error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } });
  const openrouter = fromUpstreamStatus('dep', 402, {}, { error: { message: 'Insufficient credits' } });
  for (const e of [anthropic, openai, openrouter]) {
    assert.equal(e.status, 502);
    assert.equal(e.code, 'upstream_billing');
  }
  const timeout = fromUpstreamStatus('dep', 504, {}, { type: 'error', error: { type: 'timeout_error', message: 'Request timed out' } });
  assert.equal(timeout.code, 'upstream_timeout');
  assert.equal(timeout.retryable, true);
});
