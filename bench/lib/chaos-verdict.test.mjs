// node --test bench/lib/chaos-verdict.test.mjs
// The chaos benchmark's stream verdicts: the dishonest-stream count is its key figure, so what
// counts as honest is pinned here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionProblem, StreamJudge } from './chaos-verdict.mjs';

const chunk = (content) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ delta: content === undefined ? { role: 'assistant' } : { content } }] })}\n\n`;
const errorEvent = 'data: {"error":{"message":"m","type":"upstream_error","code":"upstream_timeout"}}\n\n';

function judge(parts, cut) {
  const j = new StreamJudge();
  for (const part of parts) j.feed(part);
  return j.verdict(cut);
}

test('a complete stream, in any framing, is ok', () => {
  assert.deepEqual(judge([chunk() + chunk('a') + 'data: [DONE]\n\n']), { kind: 'ok' });
  assert.deepEqual(judge([': keep-alive\n\n', chunk() + chunk('a') + 'data: [DO', 'NE]\n\n']), { kind: 'ok' });
  assert.deepEqual(judge([(chunk('a') + 'data: [DONE]\n\n').replaceAll('\n', '\r\n')]), { kind: 'ok' });
});

test('an error event as the last event is an honest failure', () => {
  assert.deepEqual(judge([chunk() + chunk('a') + errorEvent]), { kind: 'error_event', reason: 'upstream_timeout' });
});

test('every other ending is dishonest', () => {
  const reasons = [
    judge([chunk() + chunk('a')]),
    judge([chunk('a')], 'reset'),
    judge([chunk('a')], 'stalled'),
    judge([chunk('a') + 'data: {"obj']),
    judge([chunk() + 'data: [DONE]\n\n']),
    judge([chunk('a') + 'data: [DONE]\n\n' + chunk('b')]),
    judge([chunk('a') + errorEvent + 'data: [DONE]\n\n']),
    judge([chunk('a') + 'data: nonsense\n\n' + 'data: [DONE]\n\n']),
  ].map((v) => (assert.equal(v.kind, 'dishonest'), v.reason));
  assert.equal(new Set(reasons).size, reasons.length, `each case has its own reason: ${reasons.join(' / ')}`);
});

test('a failed completion names its status and error code', () => {
  assert.equal(completionProblem(502, '{"error":{"code":"upstreams_exhausted"}}'), 'http 502 upstreams_exhausted');
  assert.equal(completionProblem(200, '{"object":"chat.completion","choices":[{"message":{"content":"hi"}}]}'), null);
  assert.equal(completionProblem(200, '{"obj'), 'body is not JSON');
});
