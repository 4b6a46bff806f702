// jsonb refuses two things a JavaScript string can hold: NUL, which PostgreSQL text cannot store,
// and an unpaired UTF-16 surrogate, which is not Unicode. Client content can carry either (a JSON
// request may spell them as escapes), and one such message would fail its whole flush batch on
// every replay. Both become U+FFFD, the replacement character, as a UTF-8 decoder would do.

/**
 * JSON.stringify writes NUL as \u0000 and an unpaired surrogate as \udXXX in lower case (a paired
 * one comes out as the characters themselves), so those are exactly the escapes to replace. An
 * escape starts at a backslash preceded by an even run of backslashes; `\\u0000` is text, not NUL.
 */
const REFUSED_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/** JSON text for a jsonb parameter; passing text (not an object) also keeps arrays from becoming PostgreSQL arrays. */
export function toJsonb(value: unknown): string {
  return JSON.stringify(value).replace(REFUSED_ESCAPE, '$1\\ufffd');
}

/** A JSON object as stored in a jsonb column. */
export type JsonObject = Record<string, unknown>;
