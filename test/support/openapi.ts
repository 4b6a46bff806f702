// Validates bodies against OpenAI's own OpenAPI document (../shared/specs/openai-openapi.yaml).
// The document mixes JSON Schema 2020-12 with OpenAPI 3.0's `nullable`, so `nullable` is taught
// to Ajv as a keyword that lets null through.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

const SPEC_PATH = fileURLToPath(new URL('../../../shared/specs/openai-openapi.yaml', import.meta.url));

let ajv: Ajv2020 | undefined;
const compiled = new Map<string, ValidateFunction>();

function load(): Ajv2020 {
  if (ajv) return ajv;
  const spec = parse(readFileSync(SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as { components: unknown };
  const instance = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
  instance.addSchema(nullableToTypes({ $id: 'openai', components: spec.components }) as object);
  ajv = instance;
  return instance;
}

/** `{type: 'string', nullable: true}` -> also accept null, wherever it appears. */
function nullableToTypes(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(nullableToTypes);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = nullableToTypes(value);
  if (out.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    if (out.type === undefined && (out.$ref || out.allOf || out.anyOf || out.oneOf)) {
      const { nullable: _n, description: _d, ...rest } = out;
      return { anyOf: [rest, { type: 'null' }] };
    }
  }
  return out;
}

export function schemaValidator(name: string): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    const found = load().getSchema(`openai#/components/schemas/${name}`);
    if (!found) throw new Error(`no schema ${name} in the OpenAPI document`);
    validate = found;
    compiled.set(name, validate);
  }
  return validate;
}

/** Throws with Ajv's errors when `body` does not match the named OpenAI schema. */
export function assertMatchesSchema(name: string, body: unknown): void {
  const validate = schemaValidator(name);
  if (!validate(body)) {
    throw new Error(`body does not match ${name}: ${JSON.stringify(validate.errors?.slice(0, 5), null, 1)}\nbody: ${JSON.stringify(body).slice(0, 2000)}`);
  }
}
