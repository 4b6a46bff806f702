// Renders an engine answer in Gemini's wire format: one GenerateContentResponse, or the
// `alt=sse` stream of them. A stream sends the text a few tokens per event, every event repeats
// the (cumulative) usageMetadata as Gemini's do, the last one carries each candidate's
// finishReason, and nothing follows it: Gemini has no [DONE] terminator.
import { TOKENS_PER_IMAGE } from './prompt-tokens.js';
import { randomString } from './rng.js';
import type { SimAnswer, SimChoice, SimRequest } from './sim-request.js';

export interface GeminiResponseMeta {
  responseId: string;
  modelVersion: string;
  /** Prompt tokens spent on images, reported separately in promptTokensDetails. */
  imageTokens: number;
}

type Part = { text: string } | { functionCall: { name: string; args: unknown }; thoughtSignature?: string };

interface Candidate {
  content: { parts?: Part[]; role: 'model' };
  finishReason?: string;
  index: number;
}

/** Tokens of generated text per stream event; real Gemini streams send several tokens at a time. */
export const TOKENS_PER_EVENT = 4;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** An opaque stand-in for the encrypted thought signature Gemini 3 attaches to function calls. */
function thoughtSignature(): string {
  return `Cu${randomString(62, BASE64)}`;
}

export function geminiMeta(request: SimRequest): GeminiResponseMeta {
  const images = request.messages.reduce((sum, m) => sum + m.images, 0);
  return { responseId: randomString(22), modelVersion: request.model.id, imageTokens: images * TOKENS_PER_IMAGE };
}

function finishReason(choice: SimChoice): string {
  return choice.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP';
}

export function usageMetadata(promptTokens: number, candidateTokens: number, meta: GeminiResponseMeta): Record<string, unknown> {
  const details = [{ modality: 'TEXT', tokenCount: promptTokens - meta.imageTokens }];
  if (meta.imageTokens > 0) details.push({ modality: 'IMAGE', tokenCount: meta.imageTokens });
  return {
    promptTokenCount: promptTokens,
    ...(candidateTokens > 0 ? { candidatesTokenCount: candidateTokens } : {}),
    totalTokenCount: promptTokens + candidateTokens,
    promptTokensDetails: details,
  };
}

/** The function-call parts of a choice; the first carries a thought signature, as Gemini 3 sends. */
function callParts(choice: SimChoice): Part[] {
  return choice.toolCalls.map((call, i) => ({
    functionCall: { name: call.name, args: JSON.parse(call.argumentPieces.join('')) as unknown },
    ...(i === 0 ? { thoughtSignature: thoughtSignature() } : {}),
  }));
}

/** A tool call cut short by maxOutputTokens is not valid JSON, so Gemini returns no part for it. */
function isTruncatedCall(choice: SimChoice): boolean {
  return choice.toolCalls.length > 0 && choice.finishReason === 'length';
}

export function renderGenerateContent(answer: SimAnswer, meta: GeminiResponseMeta): Record<string, unknown> {
  const candidates: Candidate[] = answer.choices.map((choice) => {
    let parts: Part[] | undefined;
    if (isTruncatedCall(choice)) parts = undefined;
    else if (choice.toolCalls.length > 0) parts = callParts(choice);
    else parts = [{ text: (choice.contentPieces ?? []).join('') }];
    return { content: parts ? { parts, role: 'model' } : { role: 'model' }, finishReason: finishReason(choice), index: choice.index };
  });
  return {
    candidates,
    usageMetadata: usageMetadata(answer.promptTokens, answer.completionTokens, meta),
    modelVersion: meta.modelVersion,
    responseId: meta.responseId,
  };
}

/** A prompt refused by the safety filters: HTTP 200, promptFeedback.blockReason and no candidates. */
export function renderPromptBlocked(promptTokens: number, meta: GeminiResponseMeta): Record<string, unknown> {
  return {
    promptFeedback: {
      blockReason: 'SAFETY',
      safetyRatings: [
        { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
        { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
      ],
    },
    usageMetadata: usageMetadata(promptTokens, 0, meta),
    modelVersion: meta.modelVersion,
    responseId: meta.responseId,
  };
}

export function sseEvent(body: unknown): string {
  // Gemini frames its events with CRLF line endings.
  return `data: ${JSON.stringify(body)}\r\n\r\n`;
}

interface ChoiceChunk {
  parts: Part[];
  tokens: number;
}

function choiceChunks(choice: SimChoice): ChoiceChunk[] {
  if (isTruncatedCall(choice)) return [];
  if (choice.toolCalls.length > 0) return [{ parts: callParts(choice), tokens: choice.completionTokens }];
  const pieces = choice.contentPieces ?? [];
  const chunks: ChoiceChunk[] = [];
  for (let i = 0; i < pieces.length; i += TOKENS_PER_EVENT) {
    const slice = pieces.slice(i, i + TOKENS_PER_EVENT);
    chunks.push({ parts: [{ text: slice.join('') }], tokens: slice.length });
  }
  return chunks;
}

/**
 * Produces the SSE events of one streamed answer in order, lazily. Candidates advance side by
 * side; all finish reasons and the final usage arrive together in the last event.
 */
export class GeminiStreamCursor {
  private readonly chunks: ChoiceChunk[][];
  private readonly total: number;
  private step = 0;
  private generated = 0;

  constructor(
    private readonly answer: SimAnswer,
    private readonly meta: GeminiResponseMeta,
  ) {
    this.chunks = answer.choices.map(choiceChunks);
    this.total = Math.max(1, ...this.chunks.map((c) => c.length));
  }

  next(): string | undefined {
    if (this.step >= this.total) return undefined;
    const step = this.step++;
    const last = step === this.total - 1;
    const candidates: Candidate[] = [];
    this.answer.choices.forEach((choice, i) => {
      const chunk = this.chunks[i]![step];
      if (chunk) this.generated += chunk.tokens;
      if (!chunk && !last) return;
      const parts = chunk?.parts ?? (isTruncatedCall(choice) ? undefined : [{ text: '' }]);
      candidates.push({
        content: parts ? { parts, role: 'model' } : { role: 'model' },
        ...(last ? { finishReason: finishReason(choice) } : {}),
        index: choice.index,
      });
    });
    // A truncated call's tokens were generated even though no part shows them.
    const usage = last ? this.answer.completionTokens : this.generated;
    return sseEvent({
      candidates,
      usageMetadata: usageMetadata(this.answer.promptTokens, usage, this.meta),
      modelVersion: this.meta.modelVersion,
      responseId: this.meta.responseId,
    });
  }
}
