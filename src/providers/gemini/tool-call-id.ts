// OpenAI tool calls need ids; Gemini function calls have none, but Gemini 3 attaches an opaque
// thought signature to a step's first function call and answers 400 when the next request does
// not send it back (ai.google.dev/gemini-api/docs/thought-signatures). OpenAI clients echo tool
// call ids verbatim, so the signature travels inside the id and the gateway stays stateless.
import { randomBytes } from 'node:crypto';

const PREFIX = 'call_';
/** Not in the base64 alphabets nor in ids we generate, so a foreign id never decodes by accident. */
const MARKER = '~ts~';

/**
 * The documented stand-in for history Gemini did not produce itself (another model's tool calls,
 * or an id a client rewrote): it tells Gemini 3 to skip signature validation for that call.
 */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

export function newToolCallId(thoughtSignature?: string): string {
  const id = `${PREFIX}${randomBytes(12).toString('hex')}`;
  return thoughtSignature ? `${id}${MARKER}${thoughtSignature}` : id;
}

/** The signature a tool call id carries, if it is one of ours. */
export function signatureOf(id: string | undefined): string | undefined {
  if (!id?.startsWith(PREFIX)) return undefined;
  const at = id.indexOf(MARKER);
  return at === -1 ? undefined : id.slice(at + MARKER.length) || undefined;
}
