// Assembles a streamed answer into output items as chat chunk deltas arrive, and says which
// Responses events each delta is. One message item holds the text (and any refusal); each chat
// tool call index is one function_call item. Items take their output_index when they first
// appear, so text and tool calls may interleave in any order and indices never move.
import type { ChatCompletionChunk, ToolCallDelta } from '../core/openai-types.js';
import { outputCallId, outputItemId } from './ids.js';
import { chatLogprobs, outputItem, type Draft } from './response.js';
import type { DeltaLogProb, ItemStatus, LogProb, ResponseStreamEvent } from './types.js';

type Omitted<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the stream gives it its sequence number. */
export type EventBody = Omitted<ResponseStreamEvent, 'sequence_number'>;

type MessageDraft = Extract<Draft, { type: 'message' }>;
type CallDraft = Extract<Draft, { type: 'function_call' }>;
type TextDraft = Extract<MessageDraft['parts'][number], { type: 'output_text' }>;

interface OpenMessage { index: number; id: string; draft: MessageDraft; textPart?: number; refusalPart?: number }
interface OpenCall { index: number; id: string; draft: CallDraft }

export class OutputAssembler {
  /** Output so far, in output_index order. */
  readonly drafts: Draft[] = [];
  private message: OpenMessage | undefined;
  private readonly calls = new Map<number, OpenCall>();

  constructor(private readonly responseId: string) {}

  /** The events one chunk choice's delta makes (empty strings make none). */
  apply(delta: ChatCompletionChunk['choices'][number]['delta'], logprobs: unknown): EventBody[] {
    const events: EventBody[] = [];
    if (delta.content) this.text(delta.content, chatLogprobs(logprobs), events);
    if (delta.refusal) this.refusal(delta.refusal, events);
    for (const call of delta.tool_calls ?? []) this.toolCall(call, events);
    return events;
  }

  /** The closing events of every item, in output order, each item ending with `status`. */
  close(status: ItemStatus): EventBody[] {
    const events: EventBody[] = [];
    this.drafts.forEach((draft, index) => {
      const item = outputItem(this.responseId, draft, index, status);
      if (item.type === 'message') {
        item.content.forEach((part, contentIndex) => {
          const at = { item_id: item.id, output_index: index, content_index: contentIndex };
          if (part.type === 'output_text') events.push({ type: 'response.output_text.done', ...at, text: part.text, logprobs: part.logprobs.map(deltaLogprob) });
          else events.push({ type: 'response.refusal.done', ...at, refusal: part.refusal });
          events.push({ type: 'response.content_part.done', ...at, part });
        });
      } else {
        events.push({ type: 'response.function_call_arguments.done', item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
      }
      events.push({ type: 'response.output_item.done', output_index: index, item });
    });
    return events;
  }

  private text(delta: string, logprobs: LogProb[], events: EventBody[]): void {
    const message = this.openMessage(events);
    message.textPart ??= this.openPart(message, { type: 'output_text', text: '', logprobs: [] }, events);
    const part = message.draft.parts[message.textPart] as TextDraft;
    part.text += delta;
    part.logprobs.push(...logprobs);
    events.push({
      type: 'response.output_text.delta',
      item_id: message.id,
      output_index: message.index,
      content_index: message.textPart,
      delta,
      logprobs: logprobs.map(deltaLogprob),
    });
  }

  private refusal(delta: string, events: EventBody[]): void {
    const message = this.openMessage(events);
    message.refusalPart ??= this.openPart(message, { type: 'refusal', refusal: '' }, events);
    const part = message.draft.parts[message.refusalPart] as { refusal: string };
    part.refusal += delta;
    events.push({ type: 'response.refusal.delta', item_id: message.id, output_index: message.index, content_index: message.refusalPart, delta });
  }

  private toolCall(delta: ToolCallDelta, events: EventBody[]): void {
    let call = this.calls.get(delta.index);
    if (!call) {
      const index = this.drafts.length;
      const draft: CallDraft = { type: 'function_call', call_id: delta.id || outputCallId(this.responseId, index), name: delta.function?.name ?? '', arguments: '' };
      this.drafts.push(draft);
      call = { index, id: outputItemId(this.responseId, index, 'fc'), draft };
      this.calls.set(delta.index, call);
      events.push({ type: 'response.output_item.added', output_index: index, item: outputItem(this.responseId, draft, index, 'in_progress') });
    } else if (call.draft.name === '' && delta.function?.name) {
      // OpenAI names the function in the first delta; an upstream that names it later is still heard.
      call.draft.name = delta.function.name;
    }
    const fragment = delta.function?.arguments;
    if (fragment) {
      call.draft.arguments += fragment;
      events.push({ type: 'response.function_call_arguments.delta', item_id: call.id, output_index: call.index, delta: fragment });
    }
  }

  private openMessage(events: EventBody[]): OpenMessage {
    if (this.message) return this.message;
    const index = this.drafts.length;
    const draft: MessageDraft = { type: 'message', parts: [] };
    this.drafts.push(draft);
    this.message = { index, id: outputItemId(this.responseId, index, 'msg'), draft };
    events.push({ type: 'response.output_item.added', output_index: index, item: outputItem(this.responseId, draft, index, 'in_progress') });
    return this.message;
  }

  private openPart(message: OpenMessage, part: MessageDraft['parts'][number], events: EventBody[]): number {
    const contentIndex = message.draft.parts.push(part) - 1;
    const shown = part.type === 'refusal' ? { ...part } : { type: 'output_text' as const, text: '', annotations: [], logprobs: [] };
    events.push({ type: 'response.content_part.added', item_id: message.id, output_index: message.index, content_index: contentIndex, part: shown });
    return contentIndex;
  }
}

/** Delta and done events carry log probabilities without bytes (ResponseLogProb). */
function deltaLogprob(entry: LogProb): DeltaLogProb {
  return { token: entry.token, logprob: entry.logprob, top_logprobs: entry.top_logprobs.map((top) => ({ token: top.token, logprob: top.logprob })) };
}
