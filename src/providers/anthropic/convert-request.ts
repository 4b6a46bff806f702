// An OpenAI chat completions request -> an Anthropic Messages request.
//
// Decisions worth knowing:
// - max_tokens is required by Anthropic; without max_completion_tokens / max_tokens the adapter
//   sends its configured default.
// - temperature: OpenAI's range is 0..2, Anthropic's 0..1 (same default, 1); values above 1 are
//   clamped, since 1 is already Anthropic's most random setting.
// - response_format json_schema / json_object: without caller tools, a forced tool whose
//   input_schema is the wanted schema (Anthropic's documented route to JSON output), and the
//   tool's input comes back as the message content; with caller tools, forcing a tool would
//   forbid theirs, so the format is asked for in the system prompt instead (best effort).
// - n > 1 and logprobs have no Anthropic equivalent: 400 naming the parameter. seed and the
//   penalties are sampling hints without a counterpart and are dropped.
import type { ChatCompletionRequest, FunctionTool, JsonSchema, ToolChoice } from '../../core/openai-types.js';
import { convertMessages } from './convert-messages.js';
import { unsupportedParameter, unsupportedValue } from './request-errors.js';
import type { AnthropicMessageParam, AnthropicRequest, AnthropicTextBlock, AnthropicTool, AnthropicToolChoice } from './wire-types.js';

export interface RequestOptions {
  upstreamModel: string;
  defaultMaxTokens: number;
}

export interface ConvertedRequest {
  body: AnthropicRequest;
  /** Set when response_format became a forced tool: that tool's input is the answer's content. */
  jsonTool?: string;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const DEFAULT_JSON_TOOL = 'json_response';
const EMPTY_OBJECT_SCHEMA: JsonSchema = { type: 'object', properties: {} };

function checkSupported(request: ChatCompletionRequest): void {
  if (typeof request.n === 'number' && request.n > 1) {
    throw unsupportedParameter('n', "This model's provider (Anthropic) returns one choice per request; 'n' must be 1.");
  }
  if (request.logprobs === true) throw unsupportedParameter('logprobs', "This model's provider (Anthropic) does not return log probabilities.");
}

function functionTools(request: ChatCompletionRequest): FunctionTool[] {
  return (request.tools ?? []).map((tool, i) => {
    if (tool.type !== 'function') throw unsupportedValue(`tools[${i}].type`, "Custom tools are not supported by this model's provider; use function tools.");
    return tool;
  });
}

function toAnthropicTool(tool: FunctionTool): AnthropicTool {
  const { name, description, parameters } = tool.function;
  return { name, ...(description ? { description } : {}), input_schema: objectSchema(parameters) };
}

/** Anthropic requires input_schema.type; OpenAI accepts `{}` (or no parameters) for "no arguments". */
function objectSchema(schema: JsonSchema | undefined): JsonSchema {
  if (!schema || Object.keys(schema).length === 0) return EMPTY_OBJECT_SCHEMA;
  return schema.type === undefined ? { type: 'object', ...schema } : schema;
}

/**
 * Anthropic refuses a history with tool_use blocks unless tools are declared; OpenAI does not
 * (a "now summarise" turn after tool use often sends none). Tools the history used but the
 * request does not declare get a stub declaration, and tool_choice none keeps them unused.
 */
function stubsForHistory(messages: AnthropicMessageParam[], declared: AnthropicTool[]): AnthropicTool[] {
  const known = new Set(declared.map((t) => t.name));
  const stubs: AnthropicTool[] = [];
  for (const message of messages) {
    for (const block of message.content) {
      if (block.type !== 'tool_use' || known.has(block.name)) continue;
      known.add(block.name);
      stubs.push({ name: block.name, description: 'A tool used earlier in this conversation.', input_schema: EMPTY_OBJECT_SCHEMA });
    }
  }
  return stubs;
}

/** The names an allowed_tools choice permits, from `{type:'function', function:{name}}` entries. */
function allowedNames(choice: ToolChoice): Set<string> | undefined {
  if (typeof choice !== 'object' || choice.type !== 'allowed_tools') return undefined;
  const names = choice.allowed_tools.tools.map((t) => (t.function as { name?: unknown } | undefined)?.name ?? t.name);
  return new Set(names.filter((n): n is string => typeof n === 'string'));
}

function toolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  const single = parallel === false ? { disable_parallel_tool_use: true } : {};
  if (choice === undefined) return parallel === false ? { type: 'auto', ...single } : undefined;
  if (choice === 'none') return { type: 'none' };
  if (choice === 'auto') return { type: 'auto', ...single };
  if (choice === 'required') return { type: 'any', ...single };
  if (choice.type === 'function') return { type: 'tool', name: choice.function.name, ...single };
  if (choice.type === 'allowed_tools') return { type: choice.allowed_tools.mode === 'required' ? 'any' : 'auto', ...single };
  throw unsupportedValue('tool_choice', "Custom tool choices are not supported by this model's provider.");
}

function toolFields(request: ChatCompletionRequest): Pick<AnthropicRequest, 'tools' | 'tool_choice'> {
  const allowed = request.tool_choice === undefined ? undefined : allowedNames(request.tool_choice);
  const tools = functionTools(request).filter((t) => !allowed || allowed.has(t.function.name)).map(toAnthropicTool);
  if (tools.length === 0) return {};
  const choice = toolChoice(request.tool_choice, request.parallel_tool_calls);
  return { tools, ...(choice ? { tool_choice: choice } : {}) };
}

/** response_format as a forced tool (no caller tools) or as a system instruction (caller tools). */
function jsonFormat(request: ChatCompletionRequest, hasTools: boolean): { tool?: AnthropicTool; instruction?: string } {
  const format = request.response_format;
  if (!format || format.type === 'text') return {};
  const schema = format.type === 'json_schema' ? objectSchema(format.json_schema.schema) : EMPTY_OBJECT_SCHEMA;
  if (hasTools) {
    const shape = format.type === 'json_schema' ? ` matching this JSON schema: ${JSON.stringify(schema)}` : '';
    return { instruction: `When you answer in text, answer with a single JSON object${shape}, and nothing else.` };
  }
  const wanted = format.type === 'json_schema' ? format.json_schema.name : undefined;
  const name = wanted && TOOL_NAME.test(wanted) ? wanted : DEFAULT_JSON_TOOL;
  const description = (format.type === 'json_schema' ? format.json_schema.description : undefined) ?? 'Give the answer as this tool\'s input.';
  return { tool: { name, description, input_schema: schema } };
}

function stopSequences(stop: ChatCompletionRequest['stop']): string[] | undefined {
  if (stop === undefined || stop === null) return undefined;
  // Anthropic refuses whitespace-only stop sequences (OpenAI allows "\n"); they are left out.
  const list = (typeof stop === 'string' ? [stop] : stop).filter((s) => s.trim().length > 0);
  return list.length > 0 ? list : undefined;
}

function sampling(request: ChatCompletionRequest): Pick<AnthropicRequest, 'temperature' | 'top_p' | 'top_k' | 'stop_sequences' | 'metadata'> {
  const out: Pick<AnthropicRequest, 'temperature' | 'top_p' | 'top_k' | 'stop_sequences' | 'metadata'> = {};
  if (typeof request.temperature === 'number') out.temperature = Math.min(1, Math.max(0, request.temperature));
  // Current Claude models refuse temperature and top_p together; temperature is the one kept.
  if (typeof request.top_p === 'number' && out.temperature === undefined) out.top_p = request.top_p;
  // top_k is a vendor extension some OpenAI clients send; Anthropic has it natively.
  if (typeof request.top_k === 'number') out.top_k = request.top_k;
  const stops = stopSequences(request.stop);
  if (stops) out.stop_sequences = stops;
  if (typeof request.user === 'string' && request.user.length > 0) out.metadata = { user_id: request.user };
  return out;
}

export function toAnthropicRequest(request: ChatCompletionRequest, options: RequestOptions): ConvertedRequest {
  checkSupported(request);
  const { system, messages } = convertMessages(request.messages);
  const fromTools = toolFields(request);
  const json = jsonFormat(request, fromTools.tools !== undefined);
  const declared = [...(fromTools.tools ?? []), ...(json.tool ? [json.tool] : [])];
  const stubs = stubsForHistory(messages, declared);
  const systemBlocks: AnthropicTextBlock[] = json.instruction ? [...system, { type: 'text', text: json.instruction }] : system;
  const body: AnthropicRequest = {
    model: options.upstreamModel,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? options.defaultMaxTokens,
    messages,
    ...(systemBlocks.length > 0 ? { system: systemBlocks } : {}),
    ...fromTools,
    ...(json.tool ? { tools: [json.tool], tool_choice: { type: 'tool', name: json.tool.name } } : {}),
    ...(stubs.length > 0 ? { tools: [...declared, ...stubs], ...(declared.length === 0 ? { tool_choice: { type: 'none' } } : {}) } : {}),
    ...sampling(request),
    ...(request.stream === true ? { stream: true } : {}),
  };
  return json.tool ? { body, jsonTool: json.tool.name } : { body };
}
