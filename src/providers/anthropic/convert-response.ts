// An Anthropic `message` -> an OpenAI chat completion, plus the pieces the stream converter shares:
// the stop_reason -> finish_reason mapping, usage, and the completion id.
import type { ChatCompletion, FinishReason, ToolCall, Usage } from '../../core/openai-types.js';
import { malformedUpstream } from '../upstream-errors.js';
import type { AnthropicMessage, AnthropicUsage } from './wire-types.js';

/**
 * end_turn / stop_sequence / pause_turn -> stop, max_tokens and a full context window -> length,
 * tool_use -> tool_calls (stop when the tool was the forced JSON-output tool), refusal (a
 * safety classifier stopped the answer) -> content_filter.
 */
export function toFinishReason(stopReason: string | null | undefined, jsonTool: boolean): FinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return jsonTool ? 'stop' : 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

const count = (n: number | null | undefined): number => (typeof n === 'number' && Number.isFinite(n) ? n : 0);

/** Anthropic bills cache writes and reads as input too; OpenAI folds them into prompt_tokens. */
export function toUsage(usage: AnthropicUsage): Usage {
  const cachedRead = count(usage.cache_read_input_tokens);
  const prompt = count(usage.input_tokens) + count(usage.cache_creation_input_tokens) + cachedRead;
  const completion = count(usage.output_tokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cachedRead } };
}

export function completionId(messageId: string): string {
  return `chatcmpl-${messageId}`;
}

function isMessage(value: unknown): value is AnthropicMessage {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Partial<AnthropicMessage>;
  return typeof m.id === 'string' && Array.isArray(m.content) && m.content.every((b) => b !== null && typeof b === 'object');
}

/** `jsonTool` names the forced tool carrying response_format; its input becomes the text. */
export function toChatCompletion(body: unknown, deployment: string, jsonTool?: string): ChatCompletion {
  if (!isMessage(body)) throw malformedUpstream(deployment, 'a body that is not an Anthropic message');
  const texts: string[] = [];
  const toolCalls: ToolCall[] = [];
  for (const block of body.content) {
    if (block.type === 'text' && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      const args = JSON.stringify(block.input ?? {});
      if (jsonTool !== undefined && block.name === jsonTool) texts.push(args);
      else toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: args } });
    }
    // thinking, redacted_thinking and server-tool blocks have no OpenAI counterpart.
  }
  const content = texts.length > 0 ? texts.join('') : toolCalls.length > 0 ? null : '';
  return {
    id: completionId(body.id),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: typeof body.model === 'string' ? body.model : '',
    choices: [{
      index: 0,
      message: { role: 'assistant', content, refusal: null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) },
      finish_reason: toFinishReason(body.stop_reason, jsonTool !== undefined),
      logprobs: null,
    }],
    usage: toUsage(body.usage ?? {}),
  };
}
