// Renders an engine answer in Anthropic's Messages wire format: the `message` object, and the
// typed SSE stream (message_start, content_block_start/delta/stop, ping, message_delta,
// message_stop) produced lazily by a generator, so a slow stream holds only its answer and a
// cursor. Event order and shapes follow Anthropic's streaming docs; see test/fixtures/anthropic/.
import { cutAtStop } from './engine.js';
import type { EventSource } from './delivery.js';
import { randomAlnum } from './rng.js';
import type { SimAnswer } from './sim-request.js';

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export type AnswerBlock =
  | { type: 'text'; pieces: readonly string[] }
  | { type: 'tool_use'; id: string; name: string; pieces: readonly string[] };

/** The answer as Anthropic reports it: content blocks as token pieces, why it stopped, usage. */
export interface ShapedAnswer {
  blocks: AnswerBlock[];
  stopReason: AnthropicStopReason;
  stopSequence: string | null;
  inputTokens: number;
  outputTokens: number;
}

/** A classifier that intervenes mid-answer lets a few tokens out first, then stops with "refusal". */
const TOKENS_BEFORE_REFUSAL = 3;

export function nextMessageId(): string {
  return `msg_01${randomAlnum(22)}`;
}

/** Anthropic's tool ids look like `toolu_01` + 22 characters; the engine's `call_` id supplies them. */
function toolUseId(engineId: string): string {
  return `toolu_01${engineId.slice('call_'.length, 'call_'.length + 22)}`;
}

function earliestStop(text: string, stops: readonly string[]): string | undefined {
  let best: { at: number; stop: string } | undefined;
  for (const stop of stops) {
    const at = stop.length > 0 ? text.indexOf(stop) : -1;
    if (at !== -1 && (best === undefined || at < best.at)) best = { at, stop };
  }
  return best?.stop;
}

export function shapeAnswer(answer: SimAnswer, stopSequences: readonly string[], refusal: boolean): ShapedAnswer {
  const choice = answer.choices[0]!;
  const base = { inputTokens: answer.promptTokens, stopSequence: null };
  if (refusal) {
    const pieces = (choice.contentPieces ?? []).slice(0, TOKENS_BEFORE_REFUSAL);
    return { ...base, blocks: pieces.length > 0 ? [{ type: 'text', pieces }] : [], stopReason: 'refusal', outputTokens: pieces.length };
  }
  if (choice.toolCalls.length > 0) {
    const blocks: AnswerBlock[] = choice.toolCalls.map((call) => ({ type: 'tool_use', id: toolUseId(call.id), name: call.name, pieces: call.argumentPieces }));
    return { ...base, blocks, stopReason: choice.finishReason === 'length' ? 'max_tokens' : 'tool_use', outputTokens: choice.completionTokens };
  }
  let pieces = choice.contentPieces ?? [];
  let stopReason: AnthropicStopReason = choice.finishReason === 'length' ? 'max_tokens' : 'end_turn';
  let stopSequence: string | null = null;
  const cut = cutAtStop(pieces, stopSequences);
  if (cut) {
    stopSequence = earliestStop(pieces.join(''), stopSequences) ?? null;
    pieces = cut.filter((p) => p.length > 0);
    stopReason = 'stop_sequence';
  }
  return { ...base, blocks: pieces.length > 0 ? [{ type: 'text', pieces }] : [], stopReason, stopSequence, outputTokens: pieces.length };
}

/** Messages and message_start carry the service tier too; message_delta only the counts. */
function usage(inputTokens: number, outputTokens: number, withTier = true): Record<string, unknown> {
  const counts = { input_tokens: inputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: outputTokens };
  return withTier ? { ...counts, service_tier: 'standard' } : counts;
}

/** A truncated tool call has unparseable arguments; Anthropic still returns an object as input. */
function toolInput(pieces: readonly string[]): unknown {
  try {
    return JSON.parse(pieces.join('')) as unknown;
  } catch {
    return {};
  }
}

export interface MessageMeta {
  id: string;
  model: string;
}

export function renderMessage(shaped: ShapedAnswer, meta: MessageMeta): Record<string, unknown> {
  return {
    id: meta.id,
    type: 'message',
    role: 'assistant',
    model: meta.model,
    content: shaped.blocks.map((block) =>
      block.type === 'text'
        ? { type: 'text', text: block.pieces.join('') }
        : { type: 'tool_use', id: block.id, name: block.name, input: toolInput(block.pieces) },
    ),
    stop_reason: shaped.stopReason,
    stop_sequence: shaped.stopSequence,
    usage: usage(shaped.inputTokens, shaped.outputTokens),
  };
}

function frame(data: { type: string; [field: string]: unknown }): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function* messageEvents(shaped: ShapedAnswer, meta: MessageMeta, holdFinalEvent: boolean): Generator<string, void> {
  const start = { id: meta.id, type: 'message', role: 'assistant', model: meta.model, content: [], stop_reason: null, stop_sequence: null, usage: usage(shaped.inputTokens, 1) };
  yield frame({ type: 'message_start', message: start });
  if (shaped.blocks.length === 0) yield frame({ type: 'ping' });
  for (const [index, block] of shaped.blocks.entries()) {
    const contentBlock = block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
    yield frame({ type: 'content_block_start', index, content_block: contentBlock });
    if (index === 0) yield frame({ type: 'ping' });
    // Tool input starts with an empty fragment on the real API; clients must cope with it.
    if (block.type === 'tool_use') yield frame({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
    for (const piece of block.pieces) {
      const delta = block.type === 'text' ? { type: 'text_delta', text: piece } : { type: 'input_json_delta', partial_json: piece };
      yield frame({ type: 'content_block_delta', index, delta });
    }
    yield frame({ type: 'content_block_stop', index });
  }
  const end = usage(shaped.inputTokens, shaped.outputTokens, false);
  yield frame({ type: 'message_delta', delta: { stop_reason: shaped.stopReason, stop_sequence: shaped.stopSequence }, usage: end });
  if (!holdFinalEvent) yield frame({ type: 'message_stop' });
}

/**
 * The SSE events of one streamed message, in order. With `holdFinalEvent` (a cut fault) the
 * message_stop event is never produced, so the client always sees an unfinished stream even
 * when the cut point lies beyond the last event.
 */
export class MessageStreamCursor implements EventSource {
  private readonly events: Generator<string, void>;

  constructor(shaped: ShapedAnswer, meta: MessageMeta, holdFinalEvent = false) {
    this.events = messageEvents(shaped, meta, holdFinalEvent);
  }

  next(): string | undefined {
    const result = this.events.next();
    return result.done ? undefined : result.value;
  }
}
