// OpenAI's published recipe for counting a chat prompt's tokens (the cookbook's
// num_tokens_from_messages), over any tokenizer. The simulator bills with it and the gateway
// checks context windows with it, so both agree on what "too long" means.
//   3 tokens of framing per message + tokens(role) + tokens(text) + 85 per image
//   + tokens(name) + 1 when a name is set + tokens(name) + tokens(arguments) per tool call
//   + tokens of each extra text (tool definitions, response schema) + 3 priming the reply.

export interface CountedMessage {
  role: string;
  /** All text parts joined. */
  text: string;
  images: number;
  name?: string;
  toolCalls?: ReadonlyArray<{ name: string; arguments: string }>;
}

export const TOKENS_PER_MESSAGE = 3;
export const TOKENS_PER_NAME = 1;
export const TOKENS_REPLY_PRIMING = 3;
/** OpenAI's base cost of one image tile at detail "low"; used for every image regardless of size. */
export const TOKENS_PER_IMAGE = 85;

export function countPromptTokens(
  messages: readonly CountedMessage[],
  extraTexts: readonly string[],
  countTokens: (text: string) => number,
): number {
  let total = TOKENS_REPLY_PRIMING;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + countTokens(message.role) + countTokens(message.text) + message.images * TOKENS_PER_IMAGE;
    if (message.name) total += countTokens(message.name) + TOKENS_PER_NAME;
    for (const call of message.toolCalls ?? []) total += countTokens(call.name) + countTokens(call.arguments);
  }
  for (const text of extraTexts) total += countTokens(text);
  return total;
}
