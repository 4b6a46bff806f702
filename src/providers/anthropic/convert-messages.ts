// OpenAI chat messages -> Anthropic's `system` and `messages`.
// - system and developer messages, wherever they stand, become the top-level `system` text
//   blocks in order: Anthropic has no system role inside `messages`.
// - tool messages become user `tool_result` blocks; assistant tool_calls become `tool_use` blocks
//   with the arguments parsed back into an object.
// - consecutive turns of one role are merged into one message, so the tool results answering
//   one assistant turn all land in the single user message that must follow it, ahead of any
//   text there (Anthropic requires tool_result blocks first).
import type { ChatMessage, ContentPart } from '../../core/openai-types.js';
import { invalidValue, unsupportedValue } from './request-errors.js';
import { portableToolCallId } from '../tool-call-ids.js';
import type { AnthropicContentBlock, AnthropicImageBlock, AnthropicMessageParam, AnthropicTextBlock } from './wire-types.js';

const IMAGE_MEDIA_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const DATA_URL = /^data:([^;,]+)((?:;[^;,]*)*),(.*)$/s;

/** `data:` URLs become base64 sources, http(s) URLs url sources; nothing else can be sent. */
export function imageBlock(url: string, param: string): AnthropicImageBlock {
  const data = DATA_URL.exec(url);
  if (data) {
    const mediaType = data[1]!.toLowerCase();
    if (!data[2]!.split(';').includes('base64')) throw unsupportedValue(param, 'Image data URLs must be base64-encoded.');
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      throw unsupportedValue(param, `Image type '${mediaType}' is not supported by this model; use image/jpeg, image/png, image/gif or image/webp.`);
    }
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: data[3]! } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw unsupportedValue(param, 'Image URLs must be http(s) URLs or base64 data URLs.');
}

/** Text and image parts as Anthropic blocks. Empty text is dropped: Anthropic rejects empty text blocks. */
function contentBlocks(content: ChatMessage['content'], param: string, allowImages: boolean): AnthropicContentBlock[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  const blocks: AnthropicContentBlock[] = [];
  content.forEach((part: ContentPart, j) => {
    const partParam = `${param}[${j}]`;
    if (part.type === 'text' || part.type === 'refusal') {
      const text = part.type === 'text' ? part.text : part.refusal;
      if (text.length > 0) blocks.push({ type: 'text', text });
    } else if (part.type === 'image_url' && allowImages) {
      blocks.push(imageBlock(part.image_url.url, `${partParam}.image_url.url`));
    } else {
      throw unsupportedValue(`${partParam}.type`, `Content parts of type '${part.type}' are not supported in this message by this model's provider.`);
    }
  });
  return blocks;
}

function textOf(content: ChatMessage['content'], param: string): string {
  return contentBlocks(content, param, false)
    .map((block) => (block as AnthropicTextBlock).text)
    .join('\n');
}

function toolUseBlocks(message: ChatMessage, i: number): AnthropicContentBlock[] {
  return (message.tool_calls ?? []).map((call, j) => {
    const param = `messages[${i}].tool_calls[${j}]`;
    if (call.type !== 'function') throw unsupportedValue(`${param}.type`, 'Custom tool calls are not supported by this model\'s provider.');
    let input: unknown = {};
    if (call.function.arguments.trim().length > 0) {
      try {
        input = JSON.parse(call.function.arguments);
      } catch {
        throw invalidValue(`${param}.function.arguments`, 'Tool call arguments must be a JSON object.');
      }
    }
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw invalidValue(`${param}.function.arguments`, 'Tool call arguments must be a JSON object.');
    }
    return { type: 'tool_use', id: portableToolCallId(call.id), name: call.function.name, input };
  });
}

function turnFor(message: ChatMessage, i: number): AnthropicMessageParam {
  const param = `messages[${i}].content`;
  switch (message.role) {
    case 'user':
      return { role: 'user', content: contentBlocks(message.content, param, true) };
    case 'assistant':
      return { role: 'assistant', content: [...contentBlocks(message.content, param, false), ...toolUseBlocks(message, i)] };
    case 'tool': {
      if (typeof message.tool_call_id !== 'string') throw invalidValue(`messages[${i}].tool_call_id`, 'A tool message needs the tool_call_id it answers.');
      const text = textOf(message.content, param);
      const result: AnthropicContentBlock = { type: 'tool_result', tool_use_id: portableToolCallId(message.tool_call_id), ...(text.length > 0 ? { content: text } : {}) };
      return { role: 'user', content: [result] };
    }
    default:
      throw unsupportedValue(`messages[${i}].role`, `Messages with role '${message.role}' are not supported by this model's provider; use tool messages.`);
  }
}

/** Anthropic wants a user turn's tool_result blocks before any other block; order is kept otherwise. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  return [...blocks.filter((b) => b.type === 'tool_result'), ...blocks.filter((b) => b.type !== 'tool_result')];
}

export interface ConvertedMessages {
  system: AnthropicTextBlock[];
  messages: AnthropicMessageParam[];
}

export function convertMessages(input: readonly ChatMessage[]): ConvertedMessages {
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessageParam[] = [];
  input.forEach((message, i) => {
    if (message.role === 'system' || message.role === 'developer') {
      const text = textOf(message.content, `messages[${i}].content`);
      if (text.length > 0) system.push({ type: 'text', text });
      return;
    }
    const turn = turnFor(message, i);
    const last = messages[messages.length - 1];
    if (last && last.role === turn.role) last.content.push(...turn.content);
    else messages.push(turn);
  });
  for (const message of messages) if (message.role === 'user') message.content = toolResultsFirst(message.content);
  // Anthropic refuses empty turns (an assistant that said "", a blank user message) except a
  // final assistant prefill; OpenAI accepts them, so they are left out.
  const kept = messages.filter((m, i) => m.content.length > 0 || (m.role === 'assistant' && i === messages.length - 1));
  return { system, messages: mergeSameRole(kept) };
}

/** Dropping an empty turn can leave two turns of one role side by side; Anthropic wants them merged. */
function mergeSameRole(messages: AnthropicMessageParam[]): AnthropicMessageParam[] {
  const merged: AnthropicMessageParam[] = [];
  for (const message of messages) {
    const last = merged[merged.length - 1];
    if (last && last.role === message.role) {
      last.content.push(...message.content);
      if (last.role === 'user') last.content = toolResultsFirst(last.content);
    } else merged.push(message);
  }
  return merged;
}
