// Validates an Anthropic Messages request body the way the real API does for the common mistakes
// (max_tokens is required, unknown top-level fields are rejected, sampling ranges are 0..1, the
// output cap and context window are enforced) and normalises it into the engine's SimRequest.
// Stop sequences are kept out of the engine's request: the renderer applies them itself, because
// Anthropic reports *which* sequence matched (stop_reason "stop_sequence" + stop_sequence).
import type { JsonSchema } from '../core/openai-types.js';
import { findSimModel } from './models.js';
import { countPromptTokens } from './prompt-tokens.js';
import type { SimRequest, SimTool, SimToolChoice } from './sim-request.js';
import { anthropicErrors } from './anthropic-errors.js';
import { isObject, parseMessages, parseSystem } from './anthropic-content.js';

type Body = Record<string, unknown>;

export interface AnthropicOptions {
  stream: boolean;
  stopSequences: string[];
}

export interface ParsedMessagesRequest {
  sim: SimRequest;
  options: AnthropicOptions;
}

/** The request fields the simulator understands; anything else is "Extra inputs are not permitted". */
const KNOWN_FIELDS = new Set([
  'model', 'messages', 'max_tokens', 'system', 'metadata', 'stop_sequences', 'stream',
  'temperature', 'top_p', 'top_k', 'tools', 'tool_choice', 'service_tier',
]);

function integerField(body: Body, field: string, min: number): number | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw anthropicErrors.wrongType(field, 'a valid integer');
  if (value < min) throw anthropicErrors.wrongType(field, `greater than or equal to ${min}`);
  return value;
}

function unitIntervalField(body: Body, field: string): void {
  const value = body[field];
  if (value === undefined) return;
  if (typeof value !== 'number') throw anthropicErrors.wrongType(field, 'a valid number');
  if (value < 0) throw anthropicErrors.wrongType(field, 'greater than or equal to 0');
  if (value > 1) throw anthropicErrors.wrongType(field, 'less than or equal to 1');
}

function parseTools(raw: unknown): SimTool[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw anthropicErrors.wrongType('tools', 'a valid list');
  return raw.map((tool: unknown, i) => {
    const path = `tools.${i}`;
    if (!isObject(tool)) throw anthropicErrors.wrongType(path, 'a valid dictionary');
    if (tool.name === undefined) throw anthropicErrors.fieldRequired(`${path}.name`);
    if (typeof tool.name !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(tool.name)) {
      throw anthropicErrors.invalidValue(`${path}.name`, "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'");
    }
    if (tool.description !== undefined && typeof tool.description !== 'string') throw anthropicErrors.wrongType(`${path}.description`, 'a valid string');
    if (tool.input_schema === undefined) throw anthropicErrors.fieldRequired(`${path}.input_schema`);
    if (!isObject(tool.input_schema)) throw anthropicErrors.wrongType(`${path}.input_schema`, 'a valid dictionary');
    if (tool.input_schema.type !== 'object') throw anthropicErrors.wrongType(`${path}.input_schema.type`, "'object'");
    return { name: tool.name, parameters: tool.input_schema as JsonSchema };
  });
}

function parseToolChoice(raw: unknown, tools: readonly SimTool[]): SimToolChoice {
  if (raw === undefined) return 'auto';
  if (!isObject(raw)) throw anthropicErrors.wrongType('tool_choice', 'a valid dictionary');
  const type = raw.type;
  if (type !== 'auto' && type !== 'any' && type !== 'tool' && type !== 'none') {
    throw anthropicErrors.unknownBlock('tool_choice', String(type), ['auto', 'any', 'tool', 'none']);
  }
  if (raw.disable_parallel_tool_use !== undefined && typeof raw.disable_parallel_tool_use !== 'boolean') {
    throw anthropicErrors.wrongType(`tool_choice.${type}.disable_parallel_tool_use`, 'a valid boolean');
  }
  if ((type === 'any' || type === 'tool') && tools.length === 0) throw anthropicErrors.toolChoiceWithoutTools();
  if (type === 'auto' || type === 'none') return type;
  if (type === 'any') return 'required';
  if (typeof raw.name !== 'string') throw anthropicErrors.fieldRequired('tool_choice.tool.name');
  if (!tools.some((t) => t.name === raw.name)) throw anthropicErrors.unknownTool(raw.name);
  return { name: raw.name };
}

function parseStopSequences(raw: unknown): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw anthropicErrors.wrongType('stop_sequences', 'a valid list');
  raw.forEach((s: unknown, i) => {
    if (typeof s !== 'string') throw anthropicErrors.wrongType(`stop_sequences.${i}`, 'a valid string');
  });
  return raw as string[];
}

/**
 * `modelId` is the model name with any fault suffix removed. Field-level checks come before the
 * model lookup, as on the real API: a body missing max_tokens is a 400 whatever the model.
 */
export function parseMessagesRequest(body: Body, modelId: string | undefined, answerTokens: number | undefined): ParsedMessagesRequest {
  for (const key of Object.keys(body)) if (!KNOWN_FIELDS.has(key)) throw anthropicErrors.extraField(key);
  if (modelId === undefined || modelId.length === 0) throw anthropicErrors.fieldRequired('model');
  if (body.messages === undefined) throw anthropicErrors.fieldRequired('messages');
  const maxTokens = integerField(body, 'max_tokens', 1);
  if (maxTokens === undefined) throw anthropicErrors.fieldRequired('max_tokens');
  unitIntervalField(body, 'temperature');
  unitIntervalField(body, 'top_p');
  integerField(body, 'top_k', 0);
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw anthropicErrors.wrongType('stream', 'a valid boolean');
  if (body.metadata !== undefined && !isObject(body.metadata)) throw anthropicErrors.wrongType('metadata', 'a valid dictionary');
  const stopSequences = parseStopSequences(body.stop_sequences);
  const tools = parseTools(body.tools);
  const toolChoice = parseToolChoice(body.tool_choice, tools);

  const model = findSimModel(modelId);
  if (!model) throw anthropicErrors.modelNotFound(modelId);
  if (model.kind !== 'chat') throw anthropicErrors.notChatModel(modelId);
  if (maxTokens > model.max_output_tokens) throw anthropicErrors.maxTokensTooLarge(maxTokens, model.max_output_tokens, model.id);
  const messages = [...parseSystem(body.system), ...parseMessages(body.messages, model)];

  const promptTokens = countPromptTokens(messages, tools.length > 0 ? [JSON.stringify(body.tools)] : []);
  if (promptTokens > model.context_length) throw anthropicErrors.promptTooLong(promptTokens, model.context_length);
  if (promptTokens + maxTokens > model.context_length) throw anthropicErrors.contextExceeded(promptTokens, maxTokens, model.context_length);
  return {
    sim: { model, messages, tools, toolChoice, output: { type: 'text' }, n: 1, stop: [], maxTokens, answerTokens, promptTokens },
    options: { stream: body.stream === true, stopSequences },
  };
}
