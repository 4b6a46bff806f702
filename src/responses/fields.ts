// Reading an untrusted JSON body field by field. Every failure is a 400 invalid_request_error whose
// `param` is the path to the bad value (input[2].content[0].image_url) and whose message follows
// the real API's wording ("Invalid type for 'x': expected a string, but got an integer instead.").
import { describeType } from '../core/describe-type.js';
import { GatewayError } from '../core/errors.js';

export type JsonObject = Record<string, unknown>;

export function badRequest(message: string, param: string | null, code: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code, param });
}

export { describeType };

export const invalidType = (param: string, expected: string, value: unknown): GatewayError =>
  badRequest(`Invalid type for '${param}': expected ${expected}, but got ${describeType(value)} instead.`, param, 'invalid_type');

export const invalidValue = (param: string, message: string): GatewayError => badRequest(message, param, 'invalid_value');

export const missingParameter = (param: string): GatewayError =>
  badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');

/** A parameter the API knows that cannot be served over chat completions. */
export const unsupportedParameter = (param: string, message: string): GatewayError => badRequest(message, param, 'unsupported_parameter');

/** A value the API knows that cannot be served over chat completions. */
export const unsupportedValue = (param: string, message: string): GatewayError => badRequest(message, param, 'unsupported_value');

/** `values` as the real API lists them: 'a', 'b', and 'c'. */
export function listValues(values: readonly string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length <= 2 ? quoted.join(' and ') : `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1)}`;
}

export const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export const path = (parent: string, key: string | number): string =>
  typeof key === 'number' ? `${parent}[${key}]` : parent === '' ? key : `${parent}.${key}`;

export function objectAt(value: unknown, param: string): JsonObject {
  if (!isObject(value)) throw invalidType(param, 'an object', value);
  return value;
}

export function arrayAt(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw invalidType(param, 'an array', value);
  return value;
}

/** An absent or null field is undefined; anything else must be a string. */
export function optionalString(body: JsonObject, key: string, param: string, maxLength?: number): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  if (maxLength !== undefined && value.length > maxLength) {
    throw badRequest(
      `Invalid '${param}': string too long. Expected a string with maximum length ${maxLength}, but got a string with length ${value.length} instead.`,
      param,
      'string_above_max_length',
    );
  }
  return value;
}

export function requiredString(body: JsonObject, key: string, param: string, maxLength?: number): string {
  const value = optionalString(body, key, param, maxLength);
  if (value === undefined) throw missingParameter(param);
  return value;
}

export function optionalBoolean(body: JsonObject, key: string, param: string): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidType(param, 'a boolean', value);
  return value;
}

export function optionalNumber(body: JsonObject, key: string, param: string, min: number, max: number): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalidType(param, 'a number', value);
  if (value < min) throw badRequest(`Invalid '${param}': decimal below minimum value. Expected a value >= ${min}, but got ${value} instead.`, param, 'decimal_below_min_value');
  if (value > max) throw badRequest(`Invalid '${param}': decimal above maximum value. Expected a value <= ${max}, but got ${value} instead.`, param, 'decimal_above_max_value');
  return value;
}

export function optionalInteger(body: JsonObject, key: string, param: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidType(param, 'an integer', value);
  if (value < min) throw badRequest(`Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${value} instead.`, param, 'integer_below_min_value');
  if (value > max) throw badRequest(`Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${value} instead.`, param, 'integer_above_max_value');
  return value;
}

export function optionalEnum<T extends string>(body: JsonObject, key: string, param: string, values: readonly T[]): T | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidType(param, 'a string', value);
  if (!(values as readonly string[]).includes(value)) {
    throw invalidValue(param, `Invalid value: '${value}'. Supported values are: ${listValues(values)}.`);
  }
  return value as T;
}

/** True when the field is present with a value other than null (the API treats null as unset). */
export const isSet = (body: JsonObject, key: string): boolean => body[key] !== undefined && body[key] !== null;
