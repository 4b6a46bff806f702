// Anthropic's typed event stream -> OpenAI chat completion chunks, one EventHandler per stream.
// message_start gives the first chunk (role assistant); text deltas become content; a tool_use
// block becomes a tool call (index, id and name first, then its argument fragments); the forced
// JSON-output tool's fragments become content instead. message_stop ends the answer: a chunk with
// the finish reason, then a usage-only chunk (`choices: []`), then 'done'. `ping` and unknown
// event types are ignored, as Anthropic's versioning policy asks; `error` is thrown.
import type { ChatCompletionChunk, FinishReason, ToolCallDelta } from '../../core/openai-types.js';
import type { EventHandler } from '../event-stream.js';
import { malformedUpstream } from '../upstream-errors.js';
import { completionId, toFinishReason, toUsage } from './convert-response.js';
import { fromStreamError } from './errors.js';
import type { AnthropicUsage } from './wire-types.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];
/** `sent`: whether any argument fragment went out; a tool without arguments still owes "{}". */
type Block = { kind: 'text' } | { kind: 'tool'; index: number; sent: boolean } | { kind: 'json'; sent: boolean } | { kind: 'ignored' };
type Event = Record<string, unknown>;

interface StreamState {
  id?: string;
  model: string;
  created: number;
  usage: AnthropicUsage;
  stopReason: string | null;
  blocks: Map<number, Block>;
  toolCalls: number;
}

function record(value: unknown): Event {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Event) : {};
}

/** Counts in message_delta are cumulative; a count given again replaces the earlier one. */
function mergeUsage(into: AnthropicUsage, from: unknown): void {
  for (const [key, value] of Object.entries(record(from))) {
    if (typeof value === 'number') (into as Record<string, number>)[key] = value;
  }
}

export function anthropicStreamHandler(deployment: string, jsonTool?: string): EventHandler {
  const state: StreamState = { model: '', created: Math.floor(Date.now() / 1000), usage: {}, stopReason: null, blocks: new Map(), toolCalls: 0 };

  const chunk = (delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk => ({
    id: completionId(state.id ?? ''),
    object: 'chat.completion.chunk',
    created: state.created,
    model: state.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
  });
  const toolDelta = (delta: ToolCallDelta): Delta => ({ tool_calls: [delta] });

  const startBlock = (event: Event, emit: (c: ChatCompletionChunk) => void): void => {
    const block = record(event.content_block);
    const index = Number(event.index);
    if (block.type === 'text') {
      state.blocks.set(index, { kind: 'text' });
      if (typeof block.text === 'string' && block.text.length > 0) emit(chunk({ content: block.text }));
    } else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      if (jsonTool !== undefined && block.name === jsonTool) return void state.blocks.set(index, { kind: 'json', sent: false });
      const call = state.toolCalls++;
      state.blocks.set(index, { kind: 'tool', index: call, sent: false });
      emit(chunk(toolDelta({ index: call, id: block.id, type: 'function', function: { name: block.name, arguments: '' } })));
    } else {
      // thinking, redacted_thinking, server tools: no OpenAI counterpart.
      state.blocks.set(index, { kind: 'ignored' });
    }
  };

  const blockDelta = (event: Event, emit: (c: ChatCompletionChunk) => void): void => {
    const block = state.blocks.get(Number(event.index));
    const delta = record(event.delta);
    if (!block) throw malformedUpstream(deployment, 'a content delta for a block that was never started');
    if (block.kind === 'text' && delta.type === 'text_delta' && typeof delta.text === 'string') {
      emit(chunk({ content: delta.text }));
    } else if (delta.type === 'input_json_delta' && typeof delta.partial_json === 'string' && delta.partial_json.length > 0) {
      if (block.kind === 'tool') emit(chunk(toolDelta({ index: block.index, function: { arguments: delta.partial_json } })));
      else if (block.kind === 'json') emit(chunk({ content: delta.partial_json }));
      if (block.kind === 'tool' || block.kind === 'json') block.sent = true;
    }
  };

  /** A tool called without arguments streams only `partial_json: ""`: clients must still get "{}". */
  const stopBlock = (event: Event, emit: (c: ChatCompletionChunk) => void): void => {
    const block = state.blocks.get(Number(event.index));
    if (block?.kind === 'tool' && !block.sent) emit(chunk(toolDelta({ index: block.index, function: { arguments: '{}' } })));
    else if (block?.kind === 'json' && !block.sent) emit(chunk({ content: '{}' }));
    if (block && (block.kind === 'tool' || block.kind === 'json')) block.sent = true;
  };

  return (sse, emit) => {
    let event: Event;
    try {
      event = record(JSON.parse(sse.data));
    } catch {
      throw malformedUpstream(deployment, 'a stream event that is not valid JSON');
    }
    const type = typeof event.type === 'string' ? event.type : sse.event;
    if (type === 'error') throw fromStreamError(deployment, event);
    if (type === 'message_start') {
      const message = record(event.message);
      if (typeof message.id !== 'string') throw malformedUpstream(deployment, 'a message_start event without a message id');
      state.id = message.id;
      state.model = typeof message.model === 'string' ? message.model : '';
      mergeUsage(state.usage, message.usage);
      emit(chunk({ role: 'assistant', content: '' }));
      return 'more';
    }
    if (type === 'ping' || !isKnown(type)) return 'more';
    if (state.id === undefined) throw malformedUpstream(deployment, `a ${type} event before message_start`);
    if (type === 'content_block_start') startBlock(event, emit);
    else if (type === 'content_block_delta') blockDelta(event, emit);
    else if (type === 'content_block_stop') stopBlock(event, emit);
    else if (type === 'message_delta') {
      const stop = record(event.delta).stop_reason;
      if (typeof stop === 'string') state.stopReason = stop;
      mergeUsage(state.usage, event.usage);
    } else if (type === 'message_stop') {
      emit(chunk({}, toFinishReason(state.stopReason, jsonTool !== undefined)));
      emit({ ...chunk({}), choices: [], usage: toUsage(state.usage) });
      return 'done';
    }
    return 'more';
  };
}

const KNOWN = new Set(['content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);

function isKnown(type: string | undefined): type is string {
  return type !== undefined && KNOWN.has(type);
}
