// A ResponseRequest and its messages -> the chat completions request the pipeline routes. Only
// what the client set is sent: chat defaults equal the Responses defaults, and several upstreams
// refuse parameters they do not know.
import type { ChatCompletionRequest, ChatMessage, FunctionTool, ResponseFormat, ToolChoice } from '../core/openai-types.js';
import type { FunctionToolParam, ResponseRequest, ResponseToolChoice, TextFormat } from './types.js';

export function toChatRequest(request: ResponseRequest, messages: ChatMessage[]): ChatCompletionRequest {
  const chat: ChatCompletionRequest = { model: request.model, messages };
  // Chat refuses tool_choice and parallel_tool_calls without tools; Responses lets them through.
  if (request.tools.length > 0) {
    chat.tools = request.tools.map(chatTool);
    if (request.tool_choice !== undefined) chat.tool_choice = chatToolChoice(request.tool_choice);
    if (request.parallel_tool_calls !== undefined) chat.parallel_tool_calls = request.parallel_tool_calls;
  }
  const format = request.text.format;
  if (format !== undefined && format.type !== 'text') chat.response_format = chatFormat(format);
  // max_completion_tokens, not the deprecated max_tokens: OpenAI's reasoning models refuse
  // max_tokens, and the Anthropic and Gemini adapters read either. Both count reasoning tokens,
  // as max_output_tokens does.
  if (request.max_output_tokens !== undefined) chat.max_completion_tokens = request.max_output_tokens;
  if (request.temperature !== undefined) chat.temperature = request.temperature;
  if (request.top_p !== undefined) chat.top_p = request.top_p;
  // safety_identifier is what `user` was for; every adapter passes `user` on (Anthropic as metadata.user_id).
  const user = request.safety_identifier ?? request.user;
  if (user !== undefined) chat.user = user;
  if (request.reasoning?.effort !== undefined) chat.reasoning_effort = request.reasoning.effort;
  if (request.text.verbosity !== undefined) chat.verbosity = request.text.verbosity;
  if (request.prompt_cache_key !== undefined) chat.prompt_cache_key = request.prompt_cache_key;
  if (request.include.includes('message.output_text.logprobs') || (request.top_logprobs ?? 0) > 0) {
    chat.logprobs = true;
    if (request.top_logprobs !== undefined) chat.top_logprobs = request.top_logprobs;
  }
  if (request.stream) {
    chat.stream = true;
    chat.stream_options = { include_usage: true };
  }
  return chat;
}

/** Responses' flat function tool -> chat's nested one. strict goes up only when the client set it. */
function chatTool(tool: FunctionToolParam): FunctionTool {
  return {
    type: 'function',
    function: {
      name: tool.name,
      ...(tool.description !== undefined && tool.description !== null ? { description: tool.description } : {}),
      ...(tool.parameters !== undefined && tool.parameters !== null ? { parameters: tool.parameters } : {}),
      ...(tool.strict !== undefined && tool.strict !== null ? { strict: tool.strict } : {}),
    },
  };
}

function chatToolChoice(choice: ResponseToolChoice): ToolChoice {
  if (typeof choice === 'string') return choice;
  if (choice.type === 'function') return { type: 'function', function: { name: choice.name } };
  return {
    type: 'allowed_tools',
    allowed_tools: { mode: choice.mode, tools: choice.tools.map((t) => ({ type: 'function', function: { name: t.name } })) },
  };
}

function chatFormat(format: Exclude<TextFormat, { type: 'text' }>): ResponseFormat {
  if (format.type === 'json_object') return { type: 'json_object' };
  return {
    type: 'json_schema',
    json_schema: {
      name: format.name,
      schema: format.schema,
      ...(format.description !== undefined ? { description: format.description } : {}),
      ...(format.strict !== undefined && format.strict !== null ? { strict: format.strict } : {}),
    },
  };
}
