// Tool-call ids cross providers: a call Gemini answered (its id carries a thought signature, see
// gemini/tool-call-id.ts) can be replayed to Anthropic or OpenAI on the next turn, by failover or
// a mixed model. OpenAI accepts at most 40 characters and Anthropic only [A-Za-z0-9_-], so an id
// that does not fit is replaced by a short hash of itself. The same id always maps to the same
// replacement, so a call and the tool result answering it still match, with no state kept.
import { createHash } from 'node:crypto';
import type { ChatMessage } from '../core/openai-types.js';

const PORTABLE = /^[A-Za-z0-9_-]{1,40}$/;

export function portableToolCallId(id: string): string {
  if (PORTABLE.test(id)) return id;
  return `call_${createHash('sha256').update(id).digest('base64url').slice(0, 32)}`;
}

/** The messages with every tool-call id made portable, or the same array when none needed it. */
export function withPortableToolCallIds(messages: ChatMessage[]): ChatMessage[] {
  const needs = messages.some(
    (m) => (m.tool_call_id !== undefined && !PORTABLE.test(m.tool_call_id)) || m.tool_calls?.some((c) => !PORTABLE.test(c.id)),
  );
  if (!needs) return messages;
  return messages.map((m) => {
    if (m.tool_call_id !== undefined) return { ...m, tool_call_id: portableToolCallId(m.tool_call_id) };
    if (m.tool_calls) return { ...m, tool_calls: m.tool_calls.map((c) => ({ ...c, id: portableToolCallId(c.id) })) };
    return m;
  });
}
