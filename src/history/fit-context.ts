// Fitting a long conversation into a model's context window, by one documented policy:
// - system and developer messages are always kept, wherever they stand;
// - the rest is grouped into turns: a user message and everything after it up to the next user
//   message (the assistant's answer, its tool calls and their results), so a tool call is never
//   separated from its result and no message is ever cut inside;
// - the oldest turns are dropped whole until the prompt plus the reserved output fits;
// - the newest turn is never dropped: if it does not fit with the system messages alone, the
//   request is refused with context_length_exceeded, naming the numbers.
// The caller learns how many messages were dropped, to say so in the response.
import { GatewayError } from '../core/errors.js';
import type { ChatMessage } from '../core/openai-types.js';
import { TOKENS_REPLY_PRIMING } from '../core/prompt-tokens.js';
import { tokensPerMessage } from '../router/prompt-size.js';

export interface FittedHistory {
  messages: ChatMessage[];
  /** Messages left out (whole turns, oldest first); 0 when everything fit. */
  dropped: number;
  /** The prompt's tokens after fitting, by OpenAI's counting recipe. */
  promptTokens: number;
}

export async function fitToContext(
  messages: readonly ChatMessage[],
  window: number,
  reservedOutput: number,
  /** Tokens of what comes with the messages: tool definitions, a response schema. */
  extraTokens = 0,
): Promise<FittedHistory> {
  const counts = await tokensPerMessage(messages);
  const fixed = TOKENS_REPLY_PRIMING + extraTokens + reservedOutput;
  const isSystem = (m: ChatMessage): boolean => m.role === 'system' || m.role === 'developer';
  const systemTokens = messages.reduce((sum, m, i) => sum + (isSystem(m) ? counts[i]! : 0), 0);

  // Turn boundaries over the non-system messages: a new turn starts at each user message.
  const turns: number[][] = [];
  messages.forEach((message, i) => {
    if (isSystem(message)) return;
    if (message.role === 'user' || turns.length === 0) turns.push([]);
    turns[turns.length - 1]!.push(i);
  });
  const turnTokens = turns.map((turn) => turn.reduce((sum, i) => sum + counts[i]!, 0));

  let total = fixed + systemTokens + turnTokens.reduce((a, b) => a + b, 0);
  let firstKept = 0;
  while (total > window && firstKept < turns.length - 1) {
    total -= turnTokens[firstKept]!;
    firstKept += 1;
  }
  if (total > window) {
    throw new GatewayError(
      `The conversation's newest turn does not fit the model's context window even with every older turn left out: ` +
        `about ${total - reservedOutput} tokens, plus ${reservedOutput} reserved for output, against a window of ${window}.`,
      { status: 400, type: 'invalid_request_error', code: 'context_length_exceeded', param: 'input' },
    );
  }
  const dropped = new Set(turns.slice(0, firstKept).flat());
  return {
    messages: messages.filter((_, i) => !dropped.has(i)),
    dropped: dropped.size,
    promptTokens: total - reservedOutput,
  };
}
