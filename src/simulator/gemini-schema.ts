// Gemini's two schema dialects. `parameters` / `responseSchema` take the API's own `Schema`
// message, a select subset of the OpenAPI 3.0 schema object whose JSON parser rejects any other
// key (`additionalProperties`, `$schema`, `$ref`...) with "Unknown name ... Cannot find field";
// `parametersJsonSchema` / `responseJsonSchema` take plain JSON Schema. The simulator enforces the
// first so a client that sends JSON Schema keywords in the wrong field fails here as it would on
// Google, and turns both into the lower-case JSON Schema its instance generator reads.
import type { JsonSchema } from '../core/openai-types.js';
import { geminiErrors } from './gemini-errors.js';

/** The fields of the `Schema` message (ai.google.dev/api/caching#Schema), in camelCase. */
const SCHEMA_FIELDS = new Set([
  'type', 'format', 'title', 'description', 'nullable', 'enum', 'maxItems', 'minItems', 'properties',
  'required', 'minProperties', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'example', 'anyOf',
  'propertyOrdering', 'default', 'items', 'minimum', 'maximum',
]);

const TYPES = new Set(['TYPE_UNSPECIFIED', 'STRING', 'NUMBER', 'INTEGER', 'BOOLEAN', 'ARRAY', 'OBJECT', 'NULL']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** proto3 JSON accepts a field's lowerCamelCase name and its original snake_case name alike. */
export function camelCase(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The error paths Google prints use the proto's snake_case field names. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Checks an OpenAPI-subset `Schema` at `at` (a snake_case path such as
 * `tools[0].function_declarations[1].parameters`) and returns it as JSON Schema.
 */
export function openApiSchemaToJsonSchema(schema: unknown, at: string): JsonSchema {
  if (!isObject(schema)) throw geminiErrors.invalidArgument(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Schema), ${JSON.stringify(schema)}`);
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    const name = camelCase(key);
    if (!SCHEMA_FIELDS.has(name)) throw geminiErrors.unknownField(key, at);
    if (name === 'type') {
      const upper = typeof value === 'string' ? value.toUpperCase() : '';
      if (!TYPES.has(upper)) throw geminiErrors.invalidArgument(`Invalid value at '${at}.type' (type.googleapis.com/google.ai.generativelanguage.v1beta.Type), ${JSON.stringify(value)}`);
      if (upper !== 'TYPE_UNSPECIFIED') out.type = upper.toLowerCase();
    } else if (name === 'properties') {
      if (!isObject(value)) throw geminiErrors.invalidArgument(`Invalid value at '${at}.properties', ${JSON.stringify(value)}`);
      out.properties = Object.fromEntries(Object.entries(value).map(([prop, sub]) => [prop, openApiSchemaToJsonSchema(sub, `${at}.properties[${prop}].value`)]));
    } else if (name === 'items') {
      out.items = openApiSchemaToJsonSchema(value, `${at}.items`);
    } else if (name === 'anyOf') {
      if (!Array.isArray(value)) throw geminiErrors.invalidArgument(`Invalid value at '${at}.any_of', ${JSON.stringify(value)}`);
      out.anyOf = value.map((sub: unknown, i) => openApiSchemaToJsonSchema(sub, `${at}.any_of[${i}]`));
    } else if (['maxItems', 'minItems', 'minProperties', 'maxProperties', 'minLength', 'maxLength'].includes(name)) {
      // int64 fields: proto JSON writes them as strings, and accepts numbers too.
      out[name] = Number(value);
    } else {
      out[name] = value;
    }
  }
  return out;
}

/** `parametersJsonSchema` / `responseJsonSchema`: any JSON object is accepted as it is. */
export function jsonSchemaField(schema: unknown, at: string): JsonSchema {
  if (!isObject(schema) && typeof schema !== 'boolean') {
    throw geminiErrors.invalidArgument(`Invalid value at '${at}' (type.googleapis.com/google.protobuf.Value), ${JSON.stringify(schema)}`);
  }
  return isObject(schema) ? schema : {};
}
