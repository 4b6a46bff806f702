// POST /v1/responses bodies -> a validated ResponseRequest. Bad values are 400s naming the path;
// features that need OpenAI's own servers (hosted tools, background runs, prompt templates,
// server-side compaction) are 400s that say so. Unknown top-level fields are ignored, as the SDK
// may send fields newer than this gateway.
import {
  badRequest,
  invalidType,
  invalidValue,
  isObject,
  isSet,
  listValues,
  missingParameter,
  objectAt,
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalNumber,
  optionalString,
  path,
  requiredString,
  unsupportedParameter,
} from './fields.js';
import { parseInputItems } from './input-items.js';
import { parseText, parseToolChoice, parseTools } from './request-tools.js';
import { INCLUDE_VALUES, type ResponseRequest, type ServiceTier } from './types.js';

const EFFORTS = ['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max'] as const;
const SUMMARIES = ['auto', 'concise', 'detailed'] as const;
const TIERS: readonly ServiceTier[] = ['auto', 'default', 'flex', 'scale', 'priority', 'fast', 'ultrafast'];

/** Fields that ask for work only OpenAI's servers do; a non-null value is refused with this reason. */
const SERVER_ONLY: Record<string, string> = {
  prompt: 'Prompt templates are not supported by this gateway: send the instructions and input themselves.',
  context_management: 'Server-side context compaction is not supported by this gateway.',
  moderation: 'Response moderation settings are not supported by this gateway.',
  max_tool_calls: "'max_tool_calls' is not supported by this gateway: it limits hosted tool calls, which chat completions do not have.",
};

export function parseCreateResponse(body: unknown): ResponseRequest {
  if (!isObject(body)) throw badRequest('The request body must be a JSON object.', null, 'invalid_type');

  if (body.background === true) {
    throw unsupportedParameter('background', "Background responses are not supported by this gateway: omit 'background' (or set it to false) and keep the connection open, or stream.");
  }
  optionalBoolean(body, 'background', 'background');
  for (const [key, reason] of Object.entries(SERVER_ONLY)) {
    if (isSet(body, key) && !(Array.isArray(body[key]) && (body[key] as unknown[]).length === 0)) throw unsupportedParameter(key, reason);
  }

  const model = requiredString(body, 'model', 'model');
  if (model.length === 0) throw missingParameter('model');

  const previousResponseId = optionalString(body, 'previous_response_id', 'previous_response_id');
  const conversation = parseConversation(body.conversation);
  if (previousResponseId !== undefined && conversation !== undefined) {
    throw badRequest(
      "Mutually exclusive parameters: Ensure you are only providing one of: 'previous_response_id' or 'conversation'.",
      'conversation',
      'mutually_exclusive_parameters',
    );
  }

  let input: ResponseRequest['input'];
  if (typeof body.input === 'string') input = body.input;
  else if (body.input === undefined || body.input === null) input = [];
  else if (Array.isArray(body.input)) input = parseInputItems(body.input, 'input');
  else throw invalidType('input', 'a string or an array of input items', body.input);
  if (Array.isArray(input) && input.length === 0 && previousResponseId === undefined && conversation === undefined) throw missingParameter('input');

  const tools = parseTools(body.tools);
  const optional = {
    instructions: optionalString(body, 'instructions', 'instructions'),
    tool_choice: parseToolChoice(body.tool_choice, tools),
    parallel_tool_calls: optionalBoolean(body, 'parallel_tool_calls', 'parallel_tool_calls'),
    // OpenAI's floor: fewer than 16 tokens is refused rather than silently cut.
    max_output_tokens: optionalInteger(body, 'max_output_tokens', 'max_output_tokens', 16),
    temperature: optionalNumber(body, 'temperature', 'temperature', 0, 2),
    top_p: optionalNumber(body, 'top_p', 'top_p', 0, 1),
    top_logprobs: optionalInteger(body, 'top_logprobs', 'top_logprobs', 0, 20),
    previous_response_id: previousResponseId,
    conversation,
    user: optionalString(body, 'user', 'user'),
    safety_identifier: optionalString(body, 'safety_identifier', 'safety_identifier', 64),
    prompt_cache_key: optionalString(body, 'prompt_cache_key', 'prompt_cache_key'),
    reasoning: parseReasoning(body.reasoning),
    service_tier: optionalEnum(body, 'service_tier', 'service_tier', TIERS),
  };
  return {
    model,
    input,
    tools,
    text: parseText(isSet(body, 'text') ? objectAt(body.text, 'text') : {}),
    metadata: parseMetadata(body.metadata),
    store: optionalBoolean(body, 'store', 'store') ?? true,
    stream: optionalBoolean(body, 'stream', 'stream') ?? false,
    truncation: optionalEnum(body, 'truncation', 'truncation', ['auto', 'disabled'] as const) ?? 'disabled',
    include: parseInclude(body.include),
    ...definedOnly(optional),
  };
}

/** The object without its undefined members, so that absent fields stay absent (not `key: undefined`). */
function definedOnly<T extends Record<string, unknown>>(fields: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

function parseConversation(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') {
    if (value.length === 0) throw invalidValue('conversation', "Invalid 'conversation': expected a conversation id.");
    return value;
  }
  const conversation = objectAt(value, 'conversation');
  const id = requiredString(conversation, 'id', 'conversation.id');
  if (id.length === 0) throw invalidValue('conversation.id', "Invalid 'conversation.id': expected a conversation id.");
  return id;
}

/** OpenAI's metadata: at most 16 pairs, keys up to 64 characters, string values up to 512. */
export function parseMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  const entries = Object.entries(objectAt(value, 'metadata'));
  if (entries.length > 16) throw invalidValue('metadata', `Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got ${entries.length} instead.`);
  const metadata: Record<string, string> = {};
  for (const [key, item] of entries) {
    // A key can be as long as the body; the param shows no more of it than a valid key could be.
    const param = path('metadata', key.slice(0, 64));
    if (key.length > 64) throw invalidValue(param, `Invalid 'metadata': keys are at most 64 characters, but '${key.slice(0, 64)}…' has ${key.length}.`);
    if (typeof item !== 'string') throw invalidType(param, 'a string', item);
    if (item.length > 512) throw invalidValue(param, `Invalid '${param}': string too long. Expected a string with maximum length 512, but got a string with length ${item.length} instead.`);
    metadata[key] = item;
  }
  return metadata;
}

/**
 * Every value OpenAI defines is accepted; those about hosted tools or encrypted reasoning ask for
 * things this gateway never produces, so they add nothing. message.output_text.logprobs is honoured.
 */
function parseInclude(value: unknown): ResponseRequest['include'] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidType('include', 'an array', value);
  return value.map((item, i) => {
    const param = path('include', i);
    if (typeof item !== 'string') throw invalidType(param, 'a string', item);
    if (!(INCLUDE_VALUES as readonly string[]).includes(item)) {
      throw invalidValue(param, `Invalid value: '${item}'. Supported values are: ${listValues(INCLUDE_VALUES)}.`);
    }
    return item as ResponseRequest['include'][number];
  });
}

function parseReasoning(value: unknown): ResponseRequest['reasoning'] {
  if (value === undefined || value === null) return undefined;
  const reasoning = objectAt(value, 'reasoning');
  const effort = optionalEnum(reasoning, 'effort', 'reasoning.effort', EFFORTS);
  // generate_summary is the deprecated spelling of summary.
  const summary = optionalEnum(reasoning, 'summary', 'reasoning.summary', SUMMARIES) ?? optionalEnum(reasoning, 'generate_summary', 'reasoning.generate_summary', SUMMARIES);
  return { ...(effort !== undefined ? { effort } : {}), ...(summary !== undefined ? { summary } : {}) };
}
