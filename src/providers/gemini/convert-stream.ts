// Gemini's `alt=sse` stream -> OpenAI chunks. Each event is a whole GenerateContentResponse
// holding the next piece of each candidate; function calls arrive whole, never as argument
// deltas. Gemini sends no terminator: the answer is complete when the candidates have a
// finishReason, so that event returns 'done' and a body that ends before it fails as incomplete.
import type { ChatCompletionChunk, ToolCallDelta } from '../../core/openai-types.js';
import type { EventHandler } from '../event-stream.js';
import { malformedUpstream } from '../upstream-errors.js';
import { BROKEN_CALLS, completionId, finishReasonOf, partsOf, promptBlocked, textOf, toolCallsOf, usageOf } from './convert-response.js';
import { fromGeminiStreamError } from './errors.js';
import type { GeminiResponse, GeminiUsage } from './wire-types.js';

type Choice = ChatCompletionChunk['choices'][number];

interface CandidateState {
  started: boolean;
  toolCalls: number;
  finished: boolean;
}

/** `expected`: the candidates asked for (n); the stream is done only when that many have finished. */
export function geminiStreamHandler(deployment: string, model: string, expected = 1): EventHandler {
  const candidates = new Map<number, CandidateState>();
  let id: string | undefined;
  let upstreamModel = model;
  let usage: GeminiUsage | undefined;
  const created = Math.floor(Date.now() / 1000);

  const chunk = (choices: Choice[], extra: Partial<ChatCompletionChunk> = {}): ChatCompletionChunk => ({
    id: id!,
    object: 'chat.completion.chunk',
    created,
    model: upstreamModel,
    choices,
    ...extra,
  });

  return (event, emit) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      throw malformedUpstream(deployment, 'a stream event that is not valid JSON');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw malformedUpstream(deployment, 'a stream event that is not a JSON object');
    if ('error' in parsed) throw fromGeminiStreamError(deployment, parsed);
    const response = parsed as GeminiResponse;
    const blocked = promptBlocked(response, deployment);
    if (blocked) throw blocked;
    if (response.candidates !== undefined && !Array.isArray(response.candidates)) throw malformedUpstream(deployment, 'a stream event whose candidates are not a list');
    id ??= completionId(response);
    upstreamModel = response.modelVersion ?? upstreamModel;
    // usageMetadata is cumulative on every event; only the last one counts.
    if (response.usageMetadata) usage = response.usageMetadata;

    for (const [position, candidate] of (response.candidates ?? []).entries()) {
      const index = candidate.index ?? position;
      const state = candidates.get(index) ?? { started: false, toolCalls: 0, finished: false };
      candidates.set(index, state);
      const parts = partsOf(candidate);
      const text = textOf(parts);
      const calls: ToolCallDelta[] = toolCallsOf(parts).map((call) => ({
        index: state.toolCalls++,
        id: call.id,
        type: 'function',
        function: call.type === 'function' ? { name: call.function.name, arguments: call.function.arguments } : {},
      }));
      if (!state.started || text.length > 0 || calls.length > 0) {
        const delta: Choice['delta'] = state.started ? {} : { role: 'assistant', content: calls.length > 0 && text.length === 0 ? null : '' };
        if (text.length > 0) delta.content = text;
        if (calls.length > 0) delta.tool_calls = calls;
        state.started = true;
        emit(chunk([{ index, delta, finish_reason: null, logprobs: null }]));
      }
      if (candidate.finishReason && !state.finished) {
        if (BROKEN_CALLS.has(candidate.finishReason)) throw malformedUpstream(deployment, `an unusable function call (${candidate.finishReason})`);
        state.finished = true;
        emit(chunk([{ index, delta: {}, finish_reason: finishReasonOf(candidate.finishReason, state.toolCalls > 0), logprobs: null }]));
      }
    }

    const all = [...candidates.values()];
    // With n > 1 one candidate can finish before another has started: count, don't just look.
    if (all.length < expected || !all.every((c) => c.finished)) return 'more';
    // The usage-only chunk OpenAI sends last; the pipeline drops it unless the client asked.
    emit(chunk([], { usage: usageOf(usage) }));
    return 'done';
  };
}
