// Items <-> chat messages. normalizeInput gives every input item its stored form (ids, statuses,
// content as parts); itemsToMessages turns a history of items, input and earlier output alike,
// into the chat messages an upstream understands.
import type { ChatMessage, ContentPart, ToolCall } from '../core/openai-types.js';
import { newId } from './ids.js';
import type {
  InputItem,
  InputItemParam,
  InputMessage,
  InputPart,
  Item,
  MessageParam,
  OutputMessage,
  OutputPart,
  ResponseRequest,
} from './types.js';

export { toChatRequest } from './chat-request.js';

/**
 * The request's input as items with ids: a string is one user message. Every item gets a new id
 * made here, whatever id it came with: these items are stored (with the response, in the
 * conversation), where an id a client chose could collide with an item already stored (a replayed
 * earlier output, another caller's id) and the batched insert would skip it without a word.
 */
export function normalizeInput(request: Pick<ResponseRequest, 'input'>): InputItem[] {
  if (typeof request.input === 'string') return [normalizeItem({ type: 'message', role: 'user', content: request.input })];
  return request.input.map((item) => normalizeItem(withoutId(item)));
}

/** The item without the id it was sent with, so that normalizeItem makes a fresh one. */
export function withoutId(item: InputItemParam): InputItemParam {
  const { id: _sent, ...rest } = item;
  return rest as InputItemParam;
}

/** One item in its stored form; ids it came with are kept, missing ones are made. */
export function normalizeItem(item: InputItemParam): InputItem {
  switch (item.type) {
    case 'message':
      return item.role === 'assistant' ? assistantItem(item) : inputMessageItem(item, item.role);
    case 'function_call':
      return { type: 'function_call', id: item.id ?? newId('fc'), call_id: item.call_id, name: item.name, arguments: item.arguments, status: item.status ?? 'completed' };
    case 'function_call_output':
      return { type: 'function_call_output', id: item.id ?? newId('fco'), call_id: item.call_id, output: item.output, status: item.status ?? 'completed' };
    case 'reasoning':
      return { ...item, id: item.id ?? newId('rs') };
  }
}

function inputMessageItem(item: MessageParam, role: InputMessage['role']): InputMessage {
  const content: InputPart[] =
    typeof item.content === 'string'
      ? [{ type: 'input_text', text: item.content }]
      : item.content.map((part): InputPart => {
          if (part.type === 'input_image') return { type: 'input_image', image_url: part.image_url, detail: part.detail ?? 'auto' };
          if (part.type === 'input_text' || part.type === 'input_file') return part;
          // The parser only lets input parts into non-assistant messages.
          throw new Error(`a ${part.type} part in a ${role} message`);
        });
  return { type: 'message', id: item.id ?? newId('msg'), status: item.status ?? 'completed', role, content };
}

function assistantItem(item: MessageParam): OutputMessage {
  const content: OutputPart[] =
    typeof item.content === 'string'
      ? [{ type: 'output_text', text: item.content, annotations: [], logprobs: [] }]
      : item.content.map((part): OutputPart => {
          if (part.type === 'refusal') return part;
          if (part.type === 'output_text' || part.type === 'input_text') {
            const annotations = part.type === 'output_text' ? (part.annotations ?? []) : [];
            const logprobs = part.type === 'output_text' ? (part.logprobs ?? []) : [];
            return { type: 'output_text', text: part.text, annotations, logprobs };
          }
          throw new Error(`a ${part.type} part in an assistant message`);
        });
  return { type: 'message', id: item.id ?? newId('msg'), status: item.status ?? 'completed', role: 'assistant', content };
}

/**
 * Chat messages for a history of items. Only this request's instructions apply (OpenAI does not
 * carry instructions over from earlier responses); they lead as a system message. Function calls
 * in a row, and the assistant message right before them, are one assistant turn with tool_calls,
 * as chat completions expect. Reasoning items are dropped: chat has no place for them.
 */
export function itemsToMessages(instructions: string | null | undefined, items: readonly Item[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  if (instructions) messages.push({ role: 'system', content: instructions });
  // The assistant turn function calls still join; any other item closes it.
  let turn: ChatMessage | undefined;
  for (const item of items) {
    switch (item.type) {
      case 'message':
        if (item.role === 'assistant') {
          turn = { role: 'assistant', content: assistantContent(item.content) };
          messages.push(turn);
        } else {
          messages.push({ role: item.role, content: inputContent(item.content) });
          turn = undefined;
        }
        break;
      case 'function_call': {
        const call: ToolCall = { id: item.call_id, type: 'function', function: { name: item.name, arguments: item.arguments } };
        if (turn) {
          turn.tool_calls = [...(turn.tool_calls ?? []), call];
        } else {
          turn = { role: 'assistant', content: null, tool_calls: [call] };
          messages.push(turn);
        }
        break;
      }
      case 'function_call_output':
        messages.push({ role: 'tool', tool_call_id: item.call_id, content: toolContent(item.output) });
        turn = undefined;
        break;
      case 'reasoning':
        break;
    }
  }
  return messages;
}

/** One text part is sent as a plain string, which every upstream takes; anything else as parts. */
function inputContent(parts: readonly InputPart[]): string | ContentPart[] {
  if (parts.length === 1 && parts[0]!.type === 'input_text') return parts[0]!.text;
  return parts.map((part): ContentPart => {
    switch (part.type) {
      case 'input_text':
        return { type: 'text', text: part.text };
      case 'input_image':
        // Chat has no 'original'; 'high' is the closest (the image is not downscaled to low detail).
        return { type: 'image_url', image_url: { url: part.image_url, detail: part.detail === 'original' ? 'high' : part.detail } };
      case 'input_file':
        return { type: 'file', file: { file_data: part.file_data, ...(part.filename !== undefined ? { filename: part.filename } : {}) } };
    }
  });
}

function assistantContent(parts: readonly OutputPart[]): string | ContentPart[] | null {
  if (parts.length === 0) return null;
  if (parts.length === 1 && parts[0]!.type === 'output_text') return parts[0]!.text;
  return parts.map((part): ContentPart => (part.type === 'output_text' ? { type: 'text', text: part.text } : { type: 'refusal', refusal: part.refusal }));
}

function toolContent(output: string | ReadonlyArray<{ text: string }>): string | ContentPart[] {
  if (typeof output === 'string') return output;
  if (output.length === 1) return output[0]!.text;
  return output.map((part): ContentPart => ({ type: 'text', text: part.text }));
}
