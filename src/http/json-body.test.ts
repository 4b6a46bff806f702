import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nestingExceeds, parseJsonBody } from './json-body.js';
import { GatewayError } from '../core/errors.js';

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...children.map(depthOf));
}

test('the byte scan agrees with the real depth of any JSON value, strings included', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 9 }), (value, limit) => {
      const body = Buffer.from(JSON.stringify(value));
      assert.equal(nestingExceeds(body, limit), depthOf(value) > limit);
    }),
    { numRuns: 500 },
  );
});

test('quotes escaped inside strings do not end the string early', () => {
  const body = Buffer.from(JSON.stringify({ a: 'x\\"[[[[\\\\', b: '"{{{{' }));
  assert.equal(nestingExceeds(body, 1), false);
});

test('parse errors are GatewayErrors with stable codes', () => {
  const code = (input: Buffer) => {
    try {
      parseJsonBody(input, 8);
      return 'ok';
    } catch (error) {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.status, 400);
      return error.code;
    }
  };
  assert.equal(code(Buffer.from('{"a":1}')), 'ok');
  assert.equal(code(Buffer.from('')), 'invalid_json');
  assert.equal(code(Buffer.from('{"a":')), 'invalid_json');
  assert.equal(code(Buffer.from('null')), 'invalid_json');
  assert.equal(code(Buffer.from([0x7b, 0xff, 0x7d])), 'invalid_encoding');
  assert.equal(code(Buffer.from('{"a":' + '['.repeat(9) + ']'.repeat(9) + '}')), 'nesting_too_deep');
});
