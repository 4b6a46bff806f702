// The tokens a request is charged at admission, before the upstream has said what it used: an
// estimate of the prompt from its size (never the tokenizer: counting exactly before the request
// is even admitted would let anyone stall the process with one long unbroken word, on which BPE
// is quadratic) plus the output it may produce (max_tokens, or a default reserve when it sets
// none). The difference to the real usage is settled when the request is over, so an
// estimate that is too high or too low costs the caller nothing in the end; it only decides
// whether a request is let in now.
import type { ChatCompletionRequest } from '../core/openai-types.js';
import { PromptSize } from '../router/prompt-size.js';

/** Output reserved for a request that sets no limit on it. */
export const DEFAULT_OUTPUT_RESERVE = 1_000;

type Body = Record<string, unknown>;

/** Tokens to reserve for a request to `route`; 0 for routes that call no model. */
export function estimateTokens(route: string, body: unknown): number {
  if (typeof body !== 'object' || body === null) return 0;
  const request = body as Body;
  switch (route) {
    case '/v1/chat/completions': {
      const prompt = new PromptSize(request as ChatCompletionRequest).estimate();
      return prompt + outputReserve(request.max_completion_tokens ?? request.max_tokens) * choices(request.n);
    }
    case '/v1/responses': {
      // The stored history a request refers to is not counted here (it is read later); the
      // settlement charges it once the upstream reports the real prompt.
      return bytesEstimate(JSON.stringify([request.instructions ?? '', request.input ?? ''])) + outputReserve(request.max_output_tokens);
    }
    case '/v1/embeddings': {
      const input = request.input;
      const texts = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
      // Token-id arrays are already counted: one token per number.
      return texts.reduce<number>((sum, text) => sum + (typeof text === 'string' ? bytesEstimate(text) : Array.isArray(text) ? text.length : 1), 0);
    }
    default:
      return 0;
  }
}

/** A third of the UTF-8 size, as PromptSize.estimate. */
const bytesEstimate = (text: string): number => Math.ceil(Buffer.byteLength(text, 'utf8') / 3);

function outputReserve(limit: unknown): number {
  return typeof limit === 'number' && Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_OUTPUT_RESERVE;
}

function choices(n: unknown): number {
  return typeof n === 'number' && Number.isInteger(n) && n > 1 ? n : 1;
}
