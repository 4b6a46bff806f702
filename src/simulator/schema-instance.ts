// Generates a JSON value that satisfies a JSON Schema, for simulated tool-call arguments and
// structured outputs. It covers the subset OpenAI's structured outputs and typical tool schemas
// use (type, properties, required, enum, const, items, min/maxItems, minimum/maximum,
// min/maxLength, anyOf/oneOf/allOf, $ref into $defs/definitions, nullable, common formats).
// `pattern` is not honoured: a regex-to-string generator is out of proportion for a simulator.
import type { JsonSchema } from '../core/openai-types.js';
import { randomWord } from './prose.js';
import type { Rng } from './rng.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Beyond this nesting depth only required members are generated, so recursive schemas end. */
const MAX_DEPTH = 6;

interface Context {
  root: JsonSchema;
  rng: Rng;
}

export function generateInstance(schema: JsonSchema | boolean, rng: Rng): Json {
  if (typeof schema === 'boolean') return schema ? 'value' : null;
  return generate(schema, { root: schema, rng }, 0);
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema {
  if (!ref.startsWith('#')) return {};
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').filter((p) => p.length > 0)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    node = isSchema(node) ? node[key] : undefined;
  }
  return isSchema(node) ? node : {};
}

function schemaList(value: unknown): JsonSchema[] {
  return Array.isArray(value) ? value.filter(isSchema) : [];
}

/** allOf members are merged shallowly: enough for the common "base object + extra fields" use. */
function mergeAllOf(schema: JsonSchema, ctx: Context): JsonSchema {
  const merged: JsonSchema = { ...schema };
  delete merged.allOf;
  const properties: Record<string, unknown> = isSchema(schema.properties) ? { ...schema.properties } : {};
  const required = new Set<string>(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  for (let part of schemaList(schema.allOf)) {
    if (typeof part.$ref === 'string') part = resolveRef(part.$ref, ctx.root);
    if (part.allOf) part = mergeAllOf(part, ctx);
    for (const [key, value] of Object.entries(part)) {
      if (key === 'properties' && isSchema(value)) Object.assign(properties, value);
      else if (key === 'required' && Array.isArray(value)) value.forEach((r) => typeof r === 'string' && required.add(r));
      else if (!(key in merged)) merged[key] = value;
    }
  }
  if (Object.keys(properties).length > 0) merged.properties = properties;
  if (required.size > 0) merged.required = [...required];
  return merged;
}

function chooseType(schema: JsonSchema, rng: Rng): string | undefined {
  const declared = schema.type;
  if (typeof declared === 'string') return declared;
  if (Array.isArray(declared)) {
    const types = declared.filter((t): t is string => typeof t === 'string');
    // Prefer a non-null type: a null everywhere would be valid but useless as a test fixture.
    const concrete = types.filter((t) => t !== 'null');
    if (concrete.length > 0) return rng.pick(concrete);
    return types[0];
  }
  if (isSchema(schema.properties) || schema.required !== undefined || schema.additionalProperties !== undefined) return 'object';
  if (schema.items !== undefined || schema.minItems !== undefined) return 'array';
  if (schema.minimum !== undefined || schema.maximum !== undefined) return 'number';
  if (schema.minLength !== undefined || schema.maxLength !== undefined || schema.format !== undefined) return 'string';
  return undefined;
}

function generate(input: JsonSchema, ctx: Context, depth: number): Json {
  let schema = input;
  // Follow $ref chains; the guard stops a ref that points at itself.
  for (let hops = 0; typeof schema.$ref === 'string' && hops < 32; hops++) {
    const target = resolveRef(schema.$ref, ctx.root);
    const siblings: JsonSchema = { ...schema };
    delete siblings.$ref;
    schema = { ...target, ...siblings };
  }
  if (schema.allOf !== undefined) schema = mergeAllOf(schema, ctx);
  if ('const' in schema) return schema.const as Json;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return ctx.rng.pick(schema.enum) as Json;
  const alternatives = schemaList(schema.anyOf ?? schema.oneOf);
  if (alternatives.length > 0) {
    const rest: JsonSchema = { ...schema };
    delete rest.anyOf;
    delete rest.oneOf;
    // Deep in a recursive schema prefer the first branch, which is conventionally the base case.
    const branch = depth >= MAX_DEPTH ? alternatives[0] : ctx.rng.pick(alternatives);
    return generate({ ...rest, ...branch }, ctx, depth);
  }
  switch (chooseType(schema, ctx.rng)) {
    case 'object':
      return generateObject(schema, ctx, depth);
    case 'array':
      return generateArray(schema, ctx, depth);
    case 'integer':
      return generateInteger(schema, ctx.rng);
    case 'number':
      return generateNumber(schema, ctx.rng);
    case 'boolean':
      return ctx.rng.next() < 0.5;
    case 'null':
      return null;
    case 'string':
      return generateString(schema, ctx.rng);
    default:
      return schema.nullable === true ? null : generateString(schema, ctx.rng);
  }
}

function generateObject(schema: JsonSchema, ctx: Context, depth: number): Json {
  const out: { [key: string]: Json } = {};
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : []);
  for (const [name, propertySchema] of Object.entries(properties)) {
    const include = required.has(name) || (depth < MAX_DEPTH && ctx.rng.next() < 0.7);
    if (!include) continue;
    out[name] = isSchema(propertySchema) || typeof propertySchema === 'boolean' ? generateChild(propertySchema, ctx, depth) : 'value';
  }
  // Required names without a property schema still have to be present.
  for (const name of required) {
    if (!(name in out)) {
      const extra = schema.additionalProperties;
      out[name] = isSchema(extra) ? generate(extra, ctx, depth + 1) : randomWord(ctx.rng);
    }
  }
  const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
  for (let i = 0; Object.keys(out).length < minProperties && i < minProperties * 4; i++) {
    const key = `${randomWord(ctx.rng)}_${i}`;
    if (!(key in out) && schema.additionalProperties !== false) {
      const extra = schema.additionalProperties;
      out[key] = isSchema(extra) ? generate(extra, ctx, depth + 1) : randomWord(ctx.rng);
    }
  }
  return out;
}

function generateChild(schema: JsonSchema | boolean, ctx: Context, depth: number): Json {
  return typeof schema === 'boolean' ? (schema ? randomWord(ctx.rng) : null) : generate(schema, ctx, depth + 1);
}

function generateArray(schema: JsonSchema, ctx: Context, depth: number): Json {
  const minItems = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const maxItems = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(minItems, 3);
  const wanted = depth >= MAX_DEPTH ? minItems : ctx.rng.int(Math.max(minItems, Math.min(1, maxItems)), Math.min(maxItems, Math.max(minItems, 3)));
  const itemSchema: JsonSchema | boolean = isSchema(schema.items) || typeof schema.items === 'boolean' ? schema.items : {};
  const out: Json[] = [];
  const seen = new Set<string>();
  for (let attempts = 0; out.length < wanted && attempts < wanted * 10 + 10; attempts++) {
    const item = generateChild(itemSchema, ctx, depth);
    if (schema.uniqueItems === true) {
      const key = JSON.stringify(item);
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push(item);
  }
  return out;
}

function bounds(schema: JsonSchema, integer: boolean): { low: number; high: number } {
  const step = integer ? 1 : 0.01;
  let low = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
  let high = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
  if (typeof schema.exclusiveMinimum === 'number') low = Math.max(low, schema.exclusiveMinimum + step);
  if (typeof schema.exclusiveMaximum === 'number') high = Math.min(high, schema.exclusiveMaximum - step);
  if (low === -Infinity && high === Infinity) return { low: 0, high: 100 };
  if (low === -Infinity) return { low: high - 100, high };
  if (high === Infinity) return { low, high: low + 100 };
  return { low, high };
}

function generateInteger(schema: JsonSchema, rng: Rng): number {
  const { low, high } = bounds(schema, true);
  const multipleOf = typeof schema.multipleOf === 'number' && Number.isInteger(schema.multipleOf) && schema.multipleOf > 0 ? schema.multipleOf : 1;
  const first = Math.ceil(low / multipleOf);
  const last = Math.floor(high / multipleOf);
  if (last < first) return Math.ceil(low);
  return rng.int(first, last) * multipleOf + 0; // "+ 0" turns -0 into 0
}

function generateNumber(schema: JsonSchema, rng: Rng): number {
  if (typeof schema.multipleOf === 'number') return generateInteger(schema, rng);
  const { low, high } = bounds(schema, false);
  const value = Math.round((low + rng.next() * (high - low)) * 100) / 100;
  // Rounding can step just outside the range; clamp back in.
  return Math.min(high, Math.max(low, value)) + 0;
}

const FORMATS: Record<string, (rng: Rng) => string> = {
  'date-time': (rng) => `2025-0${rng.int(1, 9)}-1${rng.int(0, 9)}T${rng.int(10, 23)}:${rng.int(10, 59)}:${rng.int(10, 59)}Z`,
  date: (rng) => `2025-0${rng.int(1, 9)}-1${rng.int(0, 9)}`,
  time: (rng) => `${rng.int(10, 23)}:${rng.int(10, 59)}:${rng.int(10, 59)}Z`,
  email: (rng) => `${randomWord(rng)}.${randomWord(rng)}@example.com`,
  uri: (rng) => `https://example.com/${randomWord(rng)}`,
  url: (rng) => `https://example.com/${randomWord(rng)}`,
  uuid: (rng) => {
    const hex = (n: number): string => Array.from({ length: n }, () => rng.int(0, 15).toString(16)).join('');
    return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  },
  hostname: (rng) => `${randomWord(rng)}.example.com`,
  ipv4: (rng) => `10.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`,
};

function generateString(schema: JsonSchema, rng: Rng): string {
  const format = typeof schema.format === 'string' ? FORMATS[schema.format] : undefined;
  if (format) return format(rng);
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Math.max(minLength, 40);
  let text = randomWord(rng);
  const target = Math.min(maxLength, Math.max(minLength, rng.int(1, 3) * 6));
  while (text.length < target) text += ` ${randomWord(rng)}`;
  if (text.length > maxLength) text = text.slice(0, maxLength).trimEnd();
  while (text.length < minLength) text += 'x';
  return text;
}
