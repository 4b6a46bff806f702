// Ids in OpenAI's form: a type prefix and 48 hex characters (resp_67cc…c1d41). The prefixes are
// the ones OpenAI's own objects carry: resp_ responses, msg_ messages, fc_ function calls, fco_
// function call outputs, rs_ reasoning items, call_ the call_id that pairs a call with its output.
import { createHash } from 'node:crypto';
import { prefixedId } from '../core/ids.js';

export type IdPrefix = 'resp' | 'msg' | 'fc' | 'fco' | 'rs' | 'call';

export function newId(prefix: IdPrefix): string {
  return prefixedId(prefix);
}

export const newResponseId = (): string => newId('resp');

/**
 * The id of a response's output item, derived from the response id and the item's place in
 * `output`. Derived rather than random so that the stream and toResponse, built apart from the
 * same content, name the same items the same way; no one can guess them without the response id.
 */
export function outputItemId(responseId: string, outputIndex: number, prefix: 'msg' | 'fc'): string {
  return `${prefix}_${createHash('sha256').update(`${responseId}/${outputIndex}`).digest('hex').slice(0, 48)}`;
}

/** A call_id for a tool call whose upstream gave none (rare; OpenAI always sends one). */
export function outputCallId(responseId: string, outputIndex: number): string {
  return `call_${createHash('sha256').update(`${responseId}/${outputIndex}/call`).digest('hex').slice(0, 24)}`;
}
