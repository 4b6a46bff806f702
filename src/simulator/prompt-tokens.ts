// The simulator's prompt-token count: OpenAI's recipe (core/prompt-tokens.ts) over o200k_base, so
// the number is deterministic and close to what the real API bills.
import { countPromptTokens as countWith } from '../core/prompt-tokens.js';
import type { SimMessage } from './sim-request.js';
import { countTokens } from './tokens.js';

export { TOKENS_PER_IMAGE, TOKENS_PER_MESSAGE, TOKENS_PER_NAME, TOKENS_REPLY_PRIMING } from '../core/prompt-tokens.js';

export function countPromptTokens(messages: readonly SimMessage[], extraTexts: readonly string[] = []): number {
  return countWith(messages, extraTexts, countTokens);
}
