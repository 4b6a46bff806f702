// Gemini GenerateContentResponse -> OpenAI chat completion, and the pieces the stream converter
// shares with it: finish reasons, usage, function calls as tool calls, the blocked-prompt error.
import { randomBytes } from 'node:crypto';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletion, ChatCompletionChoice, FinishReason, ToolCall, Usage } from '../../core/openai-types.js';
import { malformedUpstream, scrubUpstreamText } from '../upstream-errors.js';
import { newToolCallId } from './tool-call-id.js';
import type { GeminiCandidate, GeminiResponse, GeminiUsage } from './wire-types.js';

/** Finish reasons that mean "the output was withheld by a filter" (Candidate.FinishReason). */
const FILTERED = new Set([
  'SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION',
]);

/** The model tried to call a function and failed to produce a valid call. */
export const BROKEN_CALLS = new Set(['MALFORMED_FUNCTION_CALL', 'UNEXPECTED_TOOL_CALL']);

/** Gemini says STOP after a function call too; OpenAI clients look for "tool_calls". */
export function finishReasonOf(reason: string, hasToolCalls: boolean): FinishReason {
  if (reason === 'MAX_TOKENS') return 'length';
  if (FILTERED.has(reason)) return 'content_filter';
  return hasToolCalls ? 'tool_calls' : 'stop';
}

/** Thinking tokens are billed as output, so they count as completion tokens (and as reasoning). */
export function usageOf(meta: GeminiUsage | undefined): Usage {
  const prompt = meta?.promptTokenCount ?? 0;
  const thoughts = meta?.thoughtsTokenCount ?? 0;
  const completion = (meta?.candidatesTokenCount ?? 0) + thoughts;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: meta?.cachedContentTokenCount ?? 0 },
    completion_tokens_details: { reasoning_tokens: thoughts },
  };
}

/** A prompt Gemini refused (HTTP 200, promptFeedback.blockReason, no candidates). */
export function promptBlocked(response: GeminiResponse, deployment: string): GatewayError | undefined {
  const reason = response.promptFeedback?.blockReason;
  if (!reason) return undefined;
  const why = response.promptFeedback?.blockReasonMessage ? `: ${scrubUpstreamText(response.promptFeedback.blockReasonMessage)}` : '.';
  // The same code OpenAI uses, so the router can try a content-policy fallback model.
  return new GatewayError(`The prompt was blocked by the upstream's content filters (${reason})${why}`, {
    status: 400, type: 'invalid_request_error', code: 'content_policy_violation', deployment,
  });
}

type Part = Record<string, unknown>;

/** Visible text of a candidate's parts; thought summaries are the model's reasoning, not its answer. */
export function textOf(parts: Part[]): string {
  return parts.map((p) => (typeof p.text === 'string' && p.thought !== true ? p.text : '')).join('');
}

/** Function-call parts as OpenAI tool calls; a thought signature rides in the id (tool-call-id.ts). */
export function toolCallsOf(parts: Part[]): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const part of parts) {
    const call = part.functionCall as { name?: unknown; args?: unknown } | undefined;
    if (!call || typeof call.name !== 'string') continue;
    const signature = typeof part.thoughtSignature === 'string' ? part.thoughtSignature : undefined;
    calls.push({ id: newToolCallId(signature), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } });
  }
  return calls;
}

export function partsOf(candidate: GeminiCandidate): Part[] {
  const parts = candidate.content?.parts;
  return Array.isArray(parts) ? parts.filter((p): p is Part => p !== null && typeof p === 'object') : [];
}

function toChoice(candidate: GeminiCandidate, position: number): ChatCompletionChoice {
  const parts = partsOf(candidate);
  const text = textOf(parts);
  const toolCalls = toolCallsOf(parts);
  return {
    index: candidate.index ?? position,
    message: {
      role: 'assistant',
      content: text.length > 0 || toolCalls.length === 0 ? text : null,
      refusal: null,
      ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
    },
    finish_reason: finishReasonOf(candidate.finishReason ?? 'STOP', toolCalls.length > 0),
    logprobs: null,
  };
}

export function completionId(response: GeminiResponse): string {
  return `chatcmpl-${response.responseId ?? randomBytes(12).toString('hex')}`;
}

export function toChatCompletion(response: GeminiResponse, deployment: string, model: string): ChatCompletion {
  const blocked = promptBlocked(response, deployment);
  if (blocked) throw blocked;
  if (!Array.isArray(response.candidates) || response.candidates.length === 0) {
    throw malformedUpstream(deployment, 'a response without candidates');
  }
  if (response.candidates.some((c) => c === null || typeof c !== 'object')) throw malformedUpstream(deployment, 'a candidate that is not an object');
  if (response.candidates.some((c) => BROKEN_CALLS.has(c.finishReason ?? ''))) {
    // The model produced a function call it could not complete: a retry (or another deployment)
    // usually succeeds, an empty "stop" answer helps nobody.
    throw malformedUpstream(deployment, `an unusable function call (${response.candidates[0]?.finishReason})`);
  }
  return {
    id: completionId(response),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: response.modelVersion ?? model,
    choices: response.candidates.map(toChoice).sort((a, b) => a.index - b.index),
    usage: usageOf(response.usageMetadata),
  };
}
