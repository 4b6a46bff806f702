// OpenAI's wording for a JSON value's type in its "Invalid type" messages, shared by the gateway's
// request validation and the simulator, which must word errors exactly as OpenAI does.

/** How OpenAI names a JSON value's type in its "Invalid type" messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  return `a ${typeof value}`;
}
