// The simulator's prompt-token count. It follows OpenAI's published counting recipe for chat
// models (the cookbook's num_tokens_from_messages) over o200k_base, with a fixed image cost, so
// the number is deterministic and close to what the real API bills:
//   3 tokens of framing per message + tokens(role) + tokens(text) + 85 per image
//   + tokens(name) + 1 when a name is set + tokens(name) + tokens(arguments) per tool call
//   + tokens of each extra text (tool definitions, response schema) + 3 priming the reply.
import type { SimMessage } from './sim-request.js';
import { countTokens } from './tokens.js';

export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const TOKENS_REPLY_PRIMING = 3;
/** OpenAI's base cost of one image tile at detail "low"; used for every image regardless of size. */
export const TOKENS_PER_IMAGE = 85;

export function countPromptTokens(messages: readonly SimMessage[], extraTexts: readonly string[] = []): number {
  let total = TOKENS_REPLY_PRIMING;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + countTokens(message.role) + countTokens(message.text) + message.images * TOKENS_PER_IMAGE;
    if (message.name) total += countTokens(message.name) + TOKENS_PER_NAME;
    for (const call of message.toolCalls ?? []) total += countTokens(call.name) + countTokens(call.arguments);
  }
  for (const text of extraTexts) total += countTokens(text);
  return total;
}
