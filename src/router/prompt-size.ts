// How many tokens a chat request's prompt takes, for the context-window check. Counting exactly
// needs gpt-tokenizer, whose tables cost about 70 MB of heap, so it is loaded only when the cheap
// bound says it matters: a BPE token covers at least one byte, so the prompt's UTF-8 size, run
// through the same recipe, can never undercount. Most requests fit by that bound and never load it.
import { countPromptTokens, TOKENS_REPLY_PRIMING, type CountedMessage } from '../core/prompt-tokens.js';
import type { ChatCompletionRequest, ChatMessage } from '../core/openai-types.js';

type Encoder = (text: string) => number;
let encoder: Promise<Encoder> | undefined;

/** o200k_base, the encoding of OpenAI's current models; other vendors' counts are close to it. */
function loadEncoder(): Promise<Encoder> {
  encoder ??= import('gpt-tokenizer').then((m) => (text: string) => (text.length === 0 ? 0 : m.encode(text).length));
  return encoder;
}

const byteCount: Encoder = (text) => Buffer.byteLength(text, 'utf8');

/** One request's prompt size, counted at most once each way, and only when asked. */
export class PromptSize {
  private parts: { messages: CountedMessage[]; extras: string[] } | undefined;
  private bound: number | undefined;
  private exact: Promise<number> | undefined;

  constructor(private readonly request: ChatCompletionRequest) {}

  /** A number of tokens the prompt certainly does not exceed. */
  upperBound(): number {
    this.bound ??= this.count(byteCount);
    return this.bound;
  }

  /**
   * A typical count without the tokenizer, for reservations that are settled against the real
   * usage later: a third of the byte bound (English runs about four bytes a token, CJK about
   * three). Counting exactly at admission would let anyone stall the process: BPE over one long
   * unbroken word is quadratic (100 KB of "a" blocks for seconds).
   */
  estimate(): number {
    return Math.ceil(this.upperBound() / 3);
  }

  tokens(): Promise<number> {
    this.exact ??= loadEncoder().then((encode) => this.count(encode));
    return this.exact;
  }

  private count(encode: Encoder): number {
    if (!this.parts) {
      const { messages, tools, response_format: format } = this.request;
      const extras: string[] = [];
      if (tools && tools.length > 0) extras.push(JSON.stringify(tools));
      if (format?.type === 'json_schema') extras.push(JSON.stringify(format.json_schema.schema ?? {}));
      this.parts = { messages: messages.map(countedMessage), extras };
    }
    return countPromptTokens(this.parts.messages, this.parts.extras, encode);
  }

  /** Whether prompt + reserved output fit in `window` tokens; counts exactly only when it must. */
  async fits(window: number, reservedOutput: number): Promise<boolean> {
    if (this.upperBound() + reservedOutput <= window) return true;
    return (await this.tokens()) + reservedOutput <= window;
  }
}

/**
 * Each message's own share of the prompt (framing, role, text, images, tool calls), so callers
 * can sum any selection of messages without counting again; the whole prompt is the sum of the
 * kept messages plus REPLY_PRIMING plus the extras (tools, schema).
 */
export async function tokensPerMessage(messages: readonly ChatMessage[]): Promise<number[]> {
  const encode = await loadEncoder();
  return messages.map((message) => countPromptTokens([countedMessage(message)], [], encode) - TOKENS_REPLY_PRIMING);
}

function countedMessage(message: ChatMessage): CountedMessage {
  const counted: CountedMessage = { role: message.role, text: '', images: 0 };
  if (typeof message.content === 'string') counted.text = message.content;
  else if (Array.isArray(message.content)) {
    const texts: string[] = [];
    for (const part of message.content) {
      if (part.type === 'text') texts.push(part.text);
      else if (part.type === 'refusal') texts.push(part.refusal);
      else if (part.type === 'image_url') counted.images++;
    }
    counted.text = texts.join('\n');
  }
  if (message.name) counted.name = message.name;
  if (message.tool_calls && message.tool_calls.length > 0) {
    counted.toolCalls = message.tool_calls.map((call) =>
      call.type === 'custom' ? { name: call.custom.name, arguments: call.custom.input } : { name: call.function.name, arguments: call.function.arguments });
  }
  return counted;
}
