// Request bodies are parsed here rather than by Fastify's default parser so that invalid UTF-8
// and pathological nesting are refused with a clear 400 instead of being silently mangled
// (U+FFFD) or crashing a recursive step later (JSON.stringify toward the upstream).
import { isUtf8 } from 'node:buffer';
import { GatewayError } from '../core/errors.js';

const OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d, QUOTE = 0x22, BACKSLASH = 0x5c;

export function parseJsonBody(body: Buffer, maxDepth: number): unknown {
  if (body.length === 0) throw badJson('The request body is empty; send a JSON object.', 'invalid_json');
  if (!isUtf8(body)) throw badJson('The request body is not valid UTF-8.', 'invalid_encoding');
  if (nestingExceeds(body, maxDepth)) {
    throw badJson(`The request body is nested deeper than ${maxDepth} levels.`, 'nesting_too_deep');
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw badJson(
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
      'invalid_json',
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badJson('The request body must be a JSON object.', 'invalid_json');
  }
  return value;
}

/** One pass over the bytes; string contents (often megabytes of base64) are skipped with indexOf. */
export function nestingExceeds(body: Buffer, maxDepth: number): boolean {
  let depth = 0;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte === QUOTE) {
      i = closingQuote(body, i + 1);
      if (i < 0) return false; // unterminated string: JSON.parse reports it
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > maxDepth) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Index of the quote that ends a string starting at `from`, or -1. */
function closingQuote(body: Buffer, from: number): number {
  let at = body.indexOf(QUOTE, from);
  while (at > 0) {
    let backslashes = 0;
    while (body[at - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
    at = body.indexOf(QUOTE, at + 1);
  }
  return -1;
}

/**
 * A body that could not be read, kept as the request's body instead of failing the parse: the
 * request then meets the client limits like any other (a bot looping malformed JSON spends its
 * budget too) and is refused with this error just after them.
 */
export class UnreadableBody {
  constructor(readonly error: GatewayError) {}
}

function badJson(message: string, code: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code });
}
