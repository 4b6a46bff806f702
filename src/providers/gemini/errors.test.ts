import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fromGeminiStatus, parseDuration, retryDelayMs } from './errors.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../../../test/fixtures/gemini/${name}`, import.meta.url), 'utf8'));

describe('fromGeminiStatus', () => {
  test('429 RESOURCE_EXHAUSTED: retryable 429 waiting as long as RetryInfo says, the message scrubbed of URLs', () => {
    const error = fromGeminiStatus('gem-a', 429, {}, fixture('error-429-resource-exhausted.json'));
    assert.equal(error.status, 429);
    assert.equal(error.code, 'upstream_rate_limited');
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterSeconds, 47);
    assert.match(error.message, /gem-a/);
    assert.match(error.message, /You exceeded your current quota/);
    assert.doesNotMatch(error.message, /https?:/);
  });

  test('a Retry-After header, when a proxy adds one, wins over the body', () => {
    assert.equal(fromGeminiStatus('gem-a', 429, { 'retry-after': '2' }, fixture('error-429-resource-exhausted.json')).retryAfterSeconds, 2);
  });

  test('503 UNAVAILABLE -> retryable 503; 500 INTERNAL -> retryable 502; 504 DEADLINE_EXCEEDED -> 504 timeout', () => {
    const unavailable = fromGeminiStatus('gem-a', 503, {}, fixture('error-503-unavailable.json'));
    assert.deepEqual([unavailable.status, unavailable.code, unavailable.retryable], [503, 'upstream_unavailable', true]);
    assert.match(unavailable.message, /The model is overloaded/);
    const internal = fromGeminiStatus('gem-a', 500, {}, fixture('error-500-internal.json'));
    assert.deepEqual([internal.status, internal.code, internal.retryable], [502, 'upstream_error', true]);
    const deadline = fromGeminiStatus('gem-a', 504, {}, { error: { code: 504, message: 'Deadline expired', status: 'DEADLINE_EXCEEDED' } });
    assert.deepEqual([deadline.status, deadline.code, deadline.retryable], [504, 'upstream_timeout', true]);
  });

  test("400 API_KEY_INVALID is the gateway's credential failing, not the caller's bad request", () => {
    const error = fromGeminiStatus('gem-a', 400, {}, fixture('error-400-api-key-invalid.json'));
    assert.equal(error.status, 502);
    assert.equal(error.code, 'upstream_auth_failed');
  });

  test('403 PERMISSION_DENIED and 404 NOT_FOUND are 502s naming the deployment', () => {
    assert.equal(fromGeminiStatus('gem-a', 403, {}, fixture('error-403-permission-denied.json')).code, 'upstream_auth_failed');
    assert.equal(fromGeminiStatus('gem-a', 404, {}, fixture('error-404-not-found.json')).code, 'upstream_model_missing');
  });

  test("400 INVALID_ARGUMENT is the caller's 400 with Gemini's words; FAILED_PRECONDITION is this deployment's problem", () => {
    const invalid = fromGeminiStatus('gem-a', 400, {}, { error: { code: 400, message: 'The input token count (2000000) exceeds the maximum number of tokens allowed (1048576).', status: 'INVALID_ARGUMENT' } });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.type, 'invalid_request_error');
    assert.match(invalid.message, /exceeds the maximum number of tokens/);
    const region = fromGeminiStatus('gem-a', 400, {}, { error: { code: 400, message: 'User location is not supported for the API use.', status: 'FAILED_PRECONDITION' } });
    assert.deepEqual([region.status, region.retryable], [502, true]);
  });

  test('a Google API key echoed in a message is redacted', () => {
    const key = `AIza${'x'.repeat(35)}`;
    const error = fromGeminiStatus('gem-a', 400, {}, { error: { code: 400, message: `Bad request with key ${key} here`, status: 'INVALID_ARGUMENT' } });
    assert.doesNotMatch(error.message, /AIza/);
    assert.match(error.message, /\[redacted\]/);
  });
});

test('protobuf durations round up to whole seconds', () => {
  assert.equal(parseDuration('7s'), 7000);
  assert.equal(parseDuration('47.434392449s'), 47435);
  assert.equal(parseDuration('0.2s'), 200);
  assert.equal(parseDuration('7'), undefined);
  assert.equal(retryDelayMs({ error: { details: [{ '@type': 'type.googleapis.com/google.rpc.Help' }] } }), undefined);
});
