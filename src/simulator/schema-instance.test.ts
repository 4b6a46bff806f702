import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import formatsModule from 'ajv-formats';
import fc from 'fast-check';
import type { JsonSchema } from '../core/openai-types.js';
import { createRng } from './rng.js';
import { generateInstance } from './schema-instance.js';

// ajv-formats is CommonJS: its plugin is both module.exports and module.exports.default.
const addFormats = formatsModule.default;
const ajv = new Ajv({ strict: false, allErrors: true });
addFormats(ajv);

function assertValid(schema: JsonSchema, instance: unknown): void {
  const validate = ajv.compile(schema);
  assert.ok(validate(instance), `${JSON.stringify(instance)} does not satisfy ${JSON.stringify(schema)}: ${ajv.errorsText(validate.errors)}`);
}

const name = fc.stringMatching(/^[a-z][a-z_]{0,9}$/);

const stringSchema = fc.oneof(
  fc.record({ type: fc.constant('string') }),
  fc
    .tuple(fc.nat({ max: 30 }), fc.nat({ max: 30 }))
    .map(([a, b]) => ({ type: 'string', minLength: Math.min(a, b), maxLength: Math.max(a, b) })),
  fc.constantFrom('date-time', 'email', 'date', 'uuid', 'uri').map((format) => ({ type: 'string', format })),
  fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 5 }).map((values) => ({ type: 'string', enum: values })),
);

const numberSchema = fc.oneof(
  fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.nat({ max: 1000 })).map(([low, span]) => ({ type: 'integer', minimum: low, maximum: low + span })),
  fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 1, max: 1000 })).map(([low, span]) => ({ type: 'number', exclusiveMinimum: low, maximum: low + span })),
  fc.record({ type: fc.constantFrom('integer', 'number') }),
);

const leafSchema: fc.Arbitrary<JsonSchema> = fc.oneof(
  stringSchema,
  numberSchema,
  fc.constant({ type: 'boolean' }),
  fc.constant({ type: 'null' }),
  fc.jsonValue({ maxDepth: 2 }).map((value) => ({ const: value })),
  fc.constantFrom('string', 'integer', 'boolean').map((type) => ({ type: [type, 'null'] })),
);

const { schema: schemaArb } = fc.letrec<{ schema: JsonSchema; object: JsonSchema; array: JsonSchema; choice: JsonSchema }>((tie) => ({
  schema: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leafSchema, tie('object'), tie('array'), tie('choice')),
  object: fc
    .dictionary(name, tie('schema'), { maxKeys: 4 })
    .chain((properties) =>
      fc.subarray(Object.keys(properties)).map((required) => ({ type: 'object', properties, required, additionalProperties: false })),
    ),
  array: fc
    .tuple(tie('schema'), fc.nat({ max: 3 }), fc.nat({ max: 3 }))
    .map(([items, a, b]) => ({ type: 'array', items, minItems: Math.min(a, b), maxItems: Math.max(a, b) })),
  // oneOf branches get distinct JSON types, so exactly one branch can match.
  choice: fc.oneof(
    fc.tuple(tie('schema'), tie('schema')).map(([a, b]) => ({ anyOf: [a, b] })),
    fc
      .shuffledSubarray(['string', 'boolean', 'null', 'array', 'object', 'integer'], { minLength: 1, maxLength: 3 })
      .map((types) => ({ oneOf: types.map((type) => ({ type })) })),
  ),
}));

test('property: a generated instance validates against its schema (ajv)', () => {
  fc.assert(
    fc.property(schemaArb, fc.integer(), (schema, seed) => {
      assertValid(schema, generateInstance(schema, createRng(seed)));
    }),
    { numRuns: 400 },
  );
});

test('property: schemas behind $ref into $defs validate too', () => {
  fc.assert(
    fc.property(fc.dictionary(name, schemaArb, { minKeys: 1, maxKeys: 3 }), fc.integer(), (defs, seed) => {
      const names = Object.keys(defs);
      const schema: JsonSchema = {
        type: 'object',
        properties: Object.fromEntries(names.map((n) => [n, { $ref: `#/$defs/${n}` }])),
        required: names,
        $defs: defs,
      };
      assertValid(schema, generateInstance(schema, createRng(seed)));
    }),
    { numRuns: 200 },
  );
});

test('a recursive schema terminates and validates', () => {
  const schema: JsonSchema = {
    $defs: { node: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['name', 'children'] } },
    $ref: '#/$defs/node',
  };
  for (let seed = 0; seed < 50; seed++) assertValid(schema, generateInstance(schema, createRng(seed)));
});

test('allOf, nullable and definitions are understood', () => {
  const schema: JsonSchema = {
    allOf: [{ $ref: '#/definitions/base' }, { type: 'object', properties: { extra: { type: 'integer', minimum: 1 } }, required: ['extra'] }],
    definitions: { base: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } }, required: ['id'] } },
  };
  for (let seed = 0; seed < 20; seed++) assertValid(schema, generateInstance(schema, createRng(seed)));
  const nullable = generateInstance({ nullable: true }, createRng(1));
  assert.equal(nullable, null);
});
