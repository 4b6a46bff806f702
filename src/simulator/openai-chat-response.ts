// Renders an engine answer in OpenAI's chat completions wire format: the `chat.completion`
// object, and the `chat.completion.chunk` SSE stream produced lazily, one event at a time, so a
// slow stream holds only its answer and a cursor, never the whole rendered body.
import type { ChatCompletion, ChatCompletionChoice, ChatCompletionChunk, ToolCallDelta, Usage } from '../core/openai-types.js';
import { tokenLogprob } from './logprobs.js';
import type { OpenAiChatOptions } from './openai-chat-request.js';
import type { SimAnswer, SimChoice } from './sim-request.js';

export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
}

export function openAiUsage(answer: SimAnswer): Usage {
  return {
    prompt_tokens: answer.promptTokens,
    completion_tokens: answer.completionTokens,
    total_tokens: answer.promptTokens + answer.completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function contentLogprobs(choice: SimChoice, options: OpenAiChatOptions): unknown {
  if (!options.logprobs) return null;
  const content = choice.contentPieces ? choice.contentPieces.map((p) => tokenLogprob(p, options.topLogprobs)) : null;
  return { content, refusal: null };
}

export function renderChatCompletion(answer: SimAnswer, meta: ResponseMeta, options: OpenAiChatOptions): ChatCompletion {
  const choices: ChatCompletionChoice[] = answer.choices.map((choice) => {
    const message: ChatCompletionChoice['message'] = { role: 'assistant', content: choice.contentPieces ? choice.contentPieces.join('') : null };
    if (choice.toolCalls.length > 0) {
      message.tool_calls = choice.toolCalls.map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.argumentPieces.join('') },
      }));
    }
    message.refusal = null;
    message.annotations = [];
    return { index: choice.index, message, logprobs: contentLogprobs(choice, options), finish_reason: choice.finishReason };
  });
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices,
    usage: openAiUsage(answer),
    service_tier: 'default',
    system_fingerprint: meta.systemFingerprint,
  };
}

type ChunkChoice = ChatCompletionChunk['choices'][number];

/** How many events a choice produces: role, one per piece (and per extra tool call header), finish. */
function choiceEventCount(choice: SimChoice): number {
  if (choice.contentPieces) return choice.contentPieces.length + 2;
  let count = 2;
  choice.toolCalls.forEach((call, i) => (count += call.argumentPieces.length + (i === 0 ? 0 : 1)));
  return count;
}

function toolEvent(choice: SimChoice, position: number): ToolCallDelta {
  // position 1.. walks every call: its header (except the first, carried by the role event), then its fragments.
  let remaining = position - 1;
  for (let index = 0; index < choice.toolCalls.length; index++) {
    const call = choice.toolCalls[index]!;
    if (index > 0) {
      if (remaining === 0) return { index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } };
      remaining--;
    }
    if (remaining < call.argumentPieces.length) return { index, function: { arguments: call.argumentPieces[remaining]! } };
    remaining -= call.argumentPieces.length;
  }
  return { index: 0 };
}

function choiceEvent(choice: SimChoice, position: number, total: number, options: OpenAiChatOptions): ChunkChoice {
  const { index } = choice;
  if (position === 0) {
    const first = choice.toolCalls[0];
    if (first) {
      const header: ToolCallDelta = { index: 0, id: first.id, type: 'function', function: { name: first.name, arguments: '' } };
      return { index, delta: { role: 'assistant', content: null, tool_calls: [header], refusal: null }, logprobs: null, finish_reason: null };
    }
    const logprobs = options.logprobs ? { content: [], refusal: null } : null;
    return { index, delta: { role: 'assistant', content: '', refusal: null }, logprobs, finish_reason: null };
  }
  if (position === total - 1) return { index, delta: {}, logprobs: null, finish_reason: choice.finishReason };
  if (choice.contentPieces) {
    const piece = choice.contentPieces[position - 1]!;
    const logprobs = options.logprobs ? { content: [tokenLogprob(piece, options.topLogprobs)], refusal: null } : null;
    return { index, delta: { content: piece }, logprobs, finish_reason: null };
  }
  return { index, delta: { tool_calls: [toolEvent(choice, position)] }, logprobs: null, finish_reason: null };
}

const OBFUSCATION_SOURCE = 'Qx7bK2mZp9LwV4sT8nR3cY6hJ1fD5gA0';

/**
 * Produces the SSE events of one streamed answer in order. Choices are interleaved the way OpenAI
 * interleaves them for n > 1. `next()` returns undefined once `data: [DONE]` has been produced.
 */
export class ChatStreamCursor {
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly totals: number[];
  private readonly longest: number;
  private step = 0;
  private choice = 0;
  private phase: 'choices' | 'usage' | 'done' | 'finished' = 'choices';
  /** Number of events produced so far (the [DONE] line included). */
  produced = 0;

  constructor(
    private readonly answer: SimAnswer,
    meta: ResponseMeta,
    private readonly options: OpenAiChatOptions,
  ) {
    this.prefix =
      `data: {"id":${JSON.stringify(meta.id)},"object":"chat.completion.chunk","created":${meta.created},` +
      `"model":${JSON.stringify(meta.model)},"service_tier":"default","system_fingerprint":${JSON.stringify(meta.systemFingerprint)},"choices":`;
    this.suffix = options.includeUsage ? ',"usage":null' : '';
    this.totals = answer.choices.map(choiceEventCount);
    this.longest = Math.max(...this.totals);
  }

  private frame(choicesJson: string, usageJson: string, padFor: number): string {
    const obfuscation = this.options.includeObfuscation ? `,"obfuscation":"${OBFUSCATION_SOURCE.slice(0, 1 + (padFor % 16))}"` : '';
    return `${this.prefix}${choicesJson}${usageJson}${obfuscation}}\n\n`;
  }

  next(): string | undefined {
    if (this.phase === 'choices') {
      while (this.step < this.longest) {
        const choice = this.answer.choices[this.choice]!;
        const total = this.totals[this.choice]!;
        const position = this.step;
        if (++this.choice >= this.answer.choices.length) {
          this.choice = 0;
          this.step++;
        }
        if (position >= total) continue;
        const json = JSON.stringify([choiceEvent(choice, position, total, this.options)]);
        this.produced++;
        return this.frame(json, this.suffix, json.length);
      }
      this.phase = this.options.includeUsage ? 'usage' : 'done';
    }
    if (this.phase === 'usage') {
      this.phase = 'done';
      this.produced++;
      return this.frame('[]', `,"usage":${JSON.stringify(openAiUsage(this.answer))}`, 0);
    }
    if (this.phase === 'done') {
      this.phase = 'finished';
      this.produced++;
      return 'data: [DONE]\n\n';
    }
    return undefined;
  }
}
