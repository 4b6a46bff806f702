// Validates an OpenAI chat completions body the way the real API does (same statuses, messages,
// params and codes for the common mistakes) and normalises it into the engine's SimRequest.
// Unknown fields are ignored, as vLLM does, so vendor extensions pass through harmlessly.
import type { JsonSchema } from '../core/openai-types.js';
import { findSimModel } from './models.js';
import { describeType, openaiErrors } from './openai-errors.js';
import { countPromptTokens } from './prompt-tokens.js';
import type { SimMessage, SimOutputFormat, SimRequest, SimTool, SimToolChoice } from './sim-request.js';

export interface OpenAiChatOptions {
  stream: boolean;
  includeUsage: boolean;
  /** OpenAI pads stream chunks with an `obfuscation` field unless the client opts out. */
  includeObfuscation: boolean;
  logprobs: boolean;
  topLogprobs: number;
}

type Body = Record<string, unknown>;

const ROLES: Record<string, SimMessage['role']> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
  function: 'tool',
};

function isObject(value: unknown): value is Body {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalInteger(body: Body, param: string, min: number, max: number): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw openaiErrors.invalidType(param, 'an integer', describeType(value));
  if (value < min) throw openaiErrors.integerBelowMin(param, min, value);
  if (value > max) throw openaiErrors.integerAboveMax(param, max, value);
  return value;
}

function parseMessage(raw: unknown, i: number, acceptsImages: boolean): SimMessage {
  const param = `messages.[${i}]`;
  if (!isObject(raw)) throw openaiErrors.invalidType(param, 'an object', describeType(raw));
  const role = typeof raw.role === 'string' ? ROLES[raw.role] : undefined;
  if (raw.role === undefined) throw openaiErrors.missingParameter(`${param}.role`);
  if (!role) {
    throw openaiErrors.invalidValue(
      `${param}.role`,
      `Invalid value: '${String(raw.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
    );
  }
  const message: SimMessage = { role, text: '', images: 0 };
  const content = raw.content;
  if (typeof content === 'string') {
    message.text = content;
  } else if (Array.isArray(content)) {
    const texts: string[] = [];
    content.forEach((part: unknown, j) => {
      const partParam = `${param}.content.[${j}]`;
      if (!isObject(part)) throw openaiErrors.invalidType(partParam, 'an object', describeType(part));
      if (part.type === 'text') texts.push(typeof part.text === 'string' ? part.text : '');
      else if (part.type === 'refusal') texts.push(typeof part.refusal === 'string' ? part.refusal : '');
      else if (part.type === 'image_url' && acceptsImages) message.images++;
      else if (part.type === 'image_url') throw openaiErrors.imageUnsupported(`${partParam}.type`);
      else if (typeof part.type === 'string') throw openaiErrors.invalidValue(`${partParam}.type`, `Invalid content type. ${part.type} is only supported by certain models.`);
      else throw openaiErrors.missingParameter(`${partParam}.type`);
    });
    message.text = texts.join('\n');
  } else if (content === undefined || content === null) {
    // Only an assistant turn (typically one carrying tool_calls) may omit its content.
    if (role !== 'assistant') throw openaiErrors.missingParameter(`${param}.content`);
  } else {
    throw openaiErrors.invalidType(`${param}.content`, 'one of a string or array of objects', describeType(content));
  }
  if (typeof raw.name === 'string' && raw.name.length > 0) message.name = raw.name;
  if (Array.isArray(raw.tool_calls)) {
    message.toolCalls = raw.tool_calls.filter(isObject).map((call) => {
      const fn = isObject(call.function) ? call.function : {};
      return { name: typeof fn.name === 'string' ? fn.name : '', arguments: typeof fn.arguments === 'string' ? fn.arguments : '' };
    });
  }
  return message;
}

function parseTools(body: Body): SimTool[] {
  const tools = body.tools;
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) throw openaiErrors.invalidType('tools', 'an array of objects', describeType(tools));
  return tools.map((tool: unknown, i) => {
    const fn = isObject(tool) && isObject(tool.function) ? tool.function : undefined;
    if (!fn) throw openaiErrors.missingParameter(`tools[${i}].function`);
    if (typeof fn.name !== 'string' || fn.name.length === 0) throw openaiErrors.missingParameter(`tools[${i}].function.name`);
    return isObject(fn.parameters) ? { name: fn.name, parameters: fn.parameters as JsonSchema } : { name: fn.name };
  });
}

function parseToolChoice(body: Body, tools: SimTool[]): SimToolChoice {
  const choice = body.tool_choice;
  if (choice === undefined || choice === null) return 'auto';
  if (tools.length === 0) {
    throw openaiErrors.invalidValue('tool_choice', "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.");
  }
  if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
  const name = isObject(choice) && isObject(choice.function) ? choice.function.name : undefined;
  if (typeof name !== 'string') throw openaiErrors.invalidValue('tool_choice', `Invalid value for 'tool_choice': ${JSON.stringify(choice)}.`);
  if (!tools.some((t) => t.name === name)) {
    throw openaiErrors.invalidValue('tool_choice', `Invalid value for 'tool_choice': no function named '${name}' was specified in the 'tools' parameter.`);
  }
  return { name };
}

function parseOutputFormat(body: Body): SimOutputFormat {
  const format = body.response_format;
  if (format === undefined || format === null) return { type: 'text' };
  if (!isObject(format)) throw openaiErrors.invalidType('response_format', 'an object', describeType(format));
  if (format.type === 'text' || format.type === 'json_object') return { type: format.type };
  if (format.type === 'json_schema') {
    const spec = format.json_schema;
    if (!isObject(spec)) throw openaiErrors.missingParameter('response_format.json_schema');
    if (typeof spec.name !== 'string') throw openaiErrors.missingParameter('response_format.json_schema.name');
    return { type: 'json_schema', schema: isObject(spec.schema) ? (spec.schema as JsonSchema) : { type: 'object' } };
  }
  throw openaiErrors.invalidValue(
    'response_format.type',
    `Invalid value: '${String(format.type)}'. Supported values are: 'text', 'json_object', and 'json_schema'.`,
  );
}

function parseStop(body: Body): string[] {
  const stop = body.stop;
  if (stop === undefined || stop === null) return [];
  if (typeof stop === 'string') return [stop];
  if (!Array.isArray(stop) || !stop.every((s) => typeof s === 'string')) {
    throw openaiErrors.invalidType('stop', 'one of a string or array of strings', describeType(stop));
  }
  if (stop.length > 4) throw openaiErrors.arrayTooLong('stop', 4, stop.length);
  return stop;
}

export interface ParsedChatRequest {
  sim: SimRequest;
  options: OpenAiChatOptions;
}

/** `modelId` is the model name with any fault suffix already removed. */
export function parseChatRequest(body: Body, modelId: string, answerTokens: number | undefined): ParsedChatRequest {
  const model = findSimModel(modelId);
  if (!model) throw openaiErrors.modelNotFound(modelId);
  if (model.kind !== 'chat') throw openaiErrors.notChatModel();
  const rawMessages = body.messages;
  if (rawMessages === undefined) throw openaiErrors.missingParameter('messages');
  if (!Array.isArray(rawMessages)) throw openaiErrors.invalidType('messages', 'an array of objects', describeType(rawMessages));
  if (rawMessages.length === 0) throw openaiErrors.emptyArray('messages');
  const acceptsImages = model.input_modalities.includes('image');
  const messages = rawMessages.map((m: unknown, i) => parseMessage(m, i, acceptsImages));
  const tools = parseTools(body);
  const toolChoice = parseToolChoice(body, tools);
  const output = parseOutputFormat(body);
  const n = optionalInteger(body, 'n', 1, 128) ?? 1;
  const stop = parseStop(body);
  const maxParam = body.max_completion_tokens !== undefined && body.max_completion_tokens !== null ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = optionalInteger(body, maxParam, 1, Number.MAX_SAFE_INTEGER);
  if (maxTokens !== undefined && maxTokens > model.max_output_tokens) throw openaiErrors.maxTokensTooLarge(maxParam, model.max_output_tokens, maxTokens);
  const seed = optionalInteger(body, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const topLogprobs = optionalInteger(body, 'top_logprobs', 0, 20) ?? 0;

  const extras: string[] = [];
  if (tools.length > 0) extras.push(JSON.stringify(body.tools));
  if (output.type === 'json_schema') extras.push(JSON.stringify(output.schema));
  const promptTokens = countPromptTokens(messages, extras);
  if (promptTokens > model.context_length) throw openaiErrors.contextLengthMessages(model.context_length, promptTokens);
  if (maxTokens !== undefined && promptTokens + maxTokens > model.context_length) {
    throw openaiErrors.contextLengthCompletion(model.context_length, promptTokens, maxTokens);
  }

  const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
  if (body.stream !== true && body.stream_options !== undefined && body.stream_options !== null) throw openaiErrors.streamOptionsWithoutStream();
  return {
    sim: { model, messages, tools, toolChoice, output, n, stop, maxTokens, seed, answerTokens, promptTokens },
    options: {
      stream: body.stream === true,
      includeUsage: streamOptions.include_usage === true,
      includeObfuscation: streamOptions.include_obfuscation !== false,
      logprobs: body.logprobs === true,
      topLogprobs,
    },
  };
}
