// Which failures become a 503 history_unavailable (storage out of reach) and which stay bugs, and
// the throttle that keeps an outage from writing one warn line per request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { historyUnavailable, isUnreachable, throttledWarn } from './history-errors.js';

test('connection failures are "unreachable"; query errors and bugs are not', () => {
  const coded = (code: string) => Object.assign(new Error('x'), { code });
  for (const error of [coded('ECONNREFUSED'), coded('ETIMEDOUT'), coded('08006'), coded('57P01'), coded('53300'),
    new Error('timeout exceeded when trying to connect'), new Error('Connection terminated unexpectedly'),
    new Error('wrapped', { cause: coded('ECONNRESET') })]) {
    assert.equal(isUnreachable(error), true, String((error as { code?: string }).code ?? error.message));
  }
  for (const error of [coded('23505'), coded('42P01'), new TypeError('x is undefined'), 'a string', null]) {
    assert.equal(isUnreachable(error), false, String(error));
  }
  const unavailable = historyUnavailable(1_500, coded('ECONNREFUSED'));
  assert.deepEqual([unavailable.status, unavailable.code, unavailable.retryable, unavailable.retryAfterSeconds], [503, 'history_unavailable', true, 2]);
});

test('a repeated failure is logged once per interval, with how many were left out', () => {
  const lines: Array<{ suppressed?: number; err: { code?: string } }> = [];
  let clock = 0;
  const warn = throttledWarn(pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line)) }), 1_000, () => clock);
  const error = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  for (let i = 0; i < 5; i++) warn(error, 'down');
  clock = 1_000;
  warn(error, 'down');
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.err.code, 'ECONNREFUSED');
  assert.equal(lines[1]!.suppressed, 4);
});
