// Validates the items of `input` (and of conversation items) one by one. Accepted: messages (the
// short {role, content} form and the typed one), function calls and their outputs, and reasoning
// items, which earlier responses' output carries and clients send back. Items that need OpenAI's
// own servers (built-in tool calls, item references, uploaded files) are refused plainly.
import {
  arrayAt,
  invalidType,
  invalidValue,
  isSet,
  listValues,
  missingParameter,
  objectAt,
  optionalEnum,
  optionalString,
  path,
  requiredString,
  unsupportedValue,
  type JsonObject,
} from './fields.js';
import type { FunctionCallOutputParam, InputItemParam, ItemStatus, MessageParam, MessageRole, PartParam, ReasoningParam } from './types.js';

const ROLES: readonly MessageRole[] = ['user', 'assistant', 'system', 'developer'];
const STATUSES: readonly ItemStatus[] = ['in_progress', 'completed', 'incomplete'];
const DETAILS = ['low', 'high', 'auto', 'original'] as const;
const INPUT_PARTS = ['input_text', 'input_image', 'input_file'] as const;
const ASSISTANT_PARTS = ['output_text', 'refusal'] as const;

/** Item types OpenAI knows that only its hosted tools produce or consume. */
const HOSTED_ITEMS = new Set([
  'file_search_call', 'computer_call', 'computer_call_output', 'web_search_call', 'image_generation_call',
  'code_interpreter_call', 'local_shell_call', 'local_shell_call_output', 'shell_call', 'shell_call_output',
  'apply_patch_call', 'apply_patch_call_output', 'mcp_list_tools', 'mcp_approval_request', 'mcp_approval_response',
  'mcp_call', 'custom_tool_call', 'custom_tool_call_output', 'tool_search_call', 'tool_search_output',
  'compaction', 'compaction_summary', 'program', 'program_output', 'additional_tools',
]);

const ITEM_TYPES = ['message', 'function_call', 'function_call_output', 'reasoning'];

export function parseInputItems(value: unknown, param: string): InputItemParam[] {
  return arrayAt(value, param).map((raw, i) => parseInputItem(raw, path(param, i)));
}

export function parseInputItem(raw: unknown, param: string): InputItemParam {
  const item = objectAt(raw, param);
  const type = item.type === undefined || item.type === null ? 'message' : item.type;
  if (typeof type !== 'string') throw invalidType(path(param, 'type'), 'a string', type);
  switch (type) {
    case 'message':
      return parseMessage(item, param);
    case 'function_call':
      return {
        type,
        ...idOf(item, param),
        call_id: nonEmpty(item, 'call_id', param),
        name: requiredString(item, 'name', path(param, 'name')),
        arguments: requiredString(item, 'arguments', path(param, 'arguments')),
        ...statusOf(item, param),
      };
    case 'function_call_output':
      return parseFunctionOutput(item, param);
    case 'reasoning':
      return parseReasoning(item, param);
    case 'item_reference':
      throw unsupportedValue(
        path(param, 'type'),
        "Item references are not supported by this gateway: send the item itself, or continue from a stored response with 'previous_response_id'.",
      );
    default:
      if (HOSTED_ITEMS.has(type)) {
        throw unsupportedValue(
          path(param, 'type'),
          `Items of type '${type}' are not supported: this gateway serves the Responses API over chat completions, which have no hosted tools.`,
        );
      }
      throw invalidValue(path(param, 'type'), `Invalid value: '${type}'. Supported values are: ${listValues(ITEM_TYPES)}.`);
  }
}

function parseMessage(item: JsonObject, param: string): MessageParam {
  const role = optionalEnum(item, 'role', path(param, 'role'), ROLES);
  if (role === undefined) throw missingParameter(path(param, 'role'));
  const contentParam = path(param, 'content');
  const content = item.content;
  let parsed: MessageParam['content'];
  if (typeof content === 'string') {
    parsed = content;
  } else if (Array.isArray(content)) {
    if (content.length === 0) {
      throw invalidValue(contentParam, `Invalid '${contentParam}': empty array. Expected an array with minimum length 1, but got an empty array instead.`);
    }
    parsed = content.map((part, j) => parsePart(part, path(contentParam, j), role));
  } else if (content === undefined || content === null) {
    throw missingParameter(path(param, 'content'));
  } else {
    throw invalidType(contentParam, 'a string or an array of content parts', content);
  }
  return { type: 'message', ...idOf(item, param), role, content: parsed, ...statusOf(item, param) };
}

/**
 * Assistant turns take output_text and refusal parts; the others take input parts. input_text in
 * an assistant turn is accepted too (the spec's short message form allows it) and read as text.
 */
function parsePart(raw: unknown, param: string, role: MessageRole): PartParam {
  const part = objectAt(raw, param);
  const allowed: readonly string[] = role === 'assistant' ? [...ASSISTANT_PARTS, 'input_text'] : INPUT_PARTS;
  const type = part.type;
  if (type === undefined || type === null) throw missingParameter(path(param, 'type'));
  if (typeof type !== 'string') throw invalidType(path(param, 'type'), 'a string', type);
  if (!allowed.includes(type)) {
    const listed = role === 'assistant' ? ASSISTANT_PARTS : INPUT_PARTS;
    throw invalidValue(path(param, 'type'), `Invalid value: '${type}'. Supported values are: ${listValues(listed)}.`);
  }
  switch (type) {
    case 'input_text':
      return { type, text: requiredString(part, 'text', path(param, 'text')) };
    case 'output_text': {
      const annotations = part.annotations === undefined || part.annotations === null ? [] : arrayAt(part.annotations, path(param, 'annotations'));
      return { type, text: requiredString(part, 'text', path(param, 'text')), annotations };
    }
    case 'refusal':
      return { type, refusal: requiredString(part, 'refusal', path(param, 'refusal')) };
    case 'input_image':
      return parseImage(part, param);
    default:
      return parseFile(part, param);
  }
}

function parseImage(part: JsonObject, param: string): PartParam {
  if (isSet(part, 'file_id')) {
    throw unsupportedValue(path(param, 'file_id'), 'Images given by file_id are not supported by this gateway: it keeps no files. Send the image as image_url (an https URL or a base64 data URL).');
  }
  const imageUrl = optionalString(part, 'image_url', path(param, 'image_url'));
  if (imageUrl === undefined || imageUrl.length === 0) throw missingParameter(path(param, 'image_url'));
  const detail = optionalEnum(part, 'detail', path(param, 'detail'), DETAILS);
  return { type: 'input_image', image_url: imageUrl, ...(detail ? { detail } : {}) };
}

function parseFile(part: JsonObject, param: string): PartParam {
  const refuse = (key: string, how: string) =>
    unsupportedValue(path(param, key), `Files given by ${how} are not supported by this gateway: it keeps no files and fetches none. Send the file inline as file_data.`);
  if (isSet(part, 'file_id')) throw refuse('file_id', 'file_id');
  if (isSet(part, 'file_url')) throw refuse('file_url', 'file_url');
  const fileData = optionalString(part, 'file_data', path(param, 'file_data'));
  if (fileData === undefined) throw missingParameter(path(param, 'file_data'));
  const filename = optionalString(part, 'filename', path(param, 'filename'));
  return { type: 'input_file', file_data: fileData, ...(filename !== undefined ? { filename } : {}) };
}

/** Chat tool messages carry text only, so images and files in a function's output cannot go up. */
function parseFunctionOutput(item: JsonObject, param: string): FunctionCallOutputParam {
  const outputParam = path(param, 'output');
  const output = item.output;
  let parsed: FunctionCallOutputParam['output'];
  if (typeof output === 'string') {
    parsed = output;
  } else if (Array.isArray(output)) {
    parsed = output.map((raw, j) => {
      const partParam = path(outputParam, j);
      const part = objectAt(raw, partParam);
      if (part.type === 'input_text') return { type: 'input_text', text: requiredString(part, 'text', path(partParam, 'text')) };
      if (part.type === 'input_image' || part.type === 'input_file') {
        throw unsupportedValue(path(partParam, 'type'), `Function outputs with '${part.type}' parts are not supported: chat completions take text only in tool results.`);
      }
      throw invalidValue(path(partParam, 'type'), `Invalid value: '${String(part.type)}'. Supported values are: ${listValues(INPUT_PARTS)}.`);
    });
  } else if (output === undefined || output === null) {
    throw missingParameter(path(param, 'output'));
  } else {
    throw invalidType(outputParam, 'a string or an array of content parts', output);
  }
  return { type: 'function_call_output', ...idOf(item, param), call_id: nonEmpty(item, 'call_id', param, 64), output: parsed, ...statusOf(item, param) };
}

/** Kept so stored conversations round-trip; never sent upstream (chat has no place for them). */
function parseReasoning(item: JsonObject, param: string): ReasoningParam {
  const texts = <T extends string>(key: 'summary' | 'content', type: T) =>
    arrayAt(item[key], path(param, key)).map((raw, j) => {
      const partParam = path(path(param, key), j);
      return { type, text: requiredString(objectAt(raw, partParam), 'text', path(partParam, 'text')) };
    });
  if (item.summary === undefined || item.summary === null) throw missingParameter(path(param, 'summary'));
  const encrypted = optionalString(item, 'encrypted_content', path(param, 'encrypted_content'));
  return {
    type: 'reasoning',
    ...idOf(item, param),
    summary: texts('summary', 'summary_text' as const),
    ...(isSet(item, 'content') ? { content: texts('content', 'reasoning_text' as const) } : {}),
    ...(encrypted !== undefined ? { encrypted_content: encrypted } : {}),
    ...statusOf(item, param),
  };
}

function idOf(item: JsonObject, param: string): { id?: string } {
  const id = optionalString(item, 'id', path(param, 'id'));
  return id === undefined || id.length === 0 ? {} : { id };
}

function statusOf(item: JsonObject, param: string): { status?: ItemStatus } {
  const status = optionalEnum(item, 'status', path(param, 'status'), STATUSES);
  return status === undefined ? {} : { status };
}

function nonEmpty(item: JsonObject, key: string, param: string, maxLength?: number): string {
  const value = requiredString(item, key, path(param, key), maxLength);
  if (value.length === 0) throw invalidValue(path(param, key), `Invalid '${path(param, key)}': empty string. Expected a string with minimum length 1, but got an empty string instead.`);
  return value;
}
