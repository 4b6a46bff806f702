// What a chat request needs from a model, and whether a model has it: image input, tools, JSON
// schema output, and a context window big enough for the prompt plus the requested output.
// Checked before any upstream call, so a request that is known to fail is never sent.
import type { ModelConfig, RerouteReason } from '../config/config.js';
import type { ChatCompletionRequest } from '../core/openai-types.js';
import { PromptSize } from './prompt-size.js';

export interface Needs {
  vision: boolean;
  tools: boolean;
  json_schema: boolean;
  /** Output tokens the request reserves (max_completion_tokens or max_tokens), 0 when unset. */
  reservedOutput: number;
  prompt: PromptSize;
}

export function needsOf(request: ChatCompletionRequest): Needs {
  return {
    vision: request.messages.some((m) => Array.isArray(m.content) && m.content.some((part) => part.type === 'image_url')),
    tools: (request.tools?.length ?? 0) > 0,
    json_schema: request.response_format?.type === 'json_schema',
    reservedOutput: request.max_completion_tokens ?? request.max_tokens ?? 0,
    prompt: new PromptSize(request),
  };
}

/** The first need the model cannot meet, or undefined when it can serve the request. */
export async function missingCapability(model: ModelConfig, needs: Needs): Promise<RerouteReason | undefined> {
  const card = model.card;
  if (needs.vision && !card.architecture.input_modalities.includes('image')) return 'vision';
  if (needs.tools && !card.supported_parameters.includes('tools')) return 'tools';
  if (needs.json_schema && !card.supported_parameters.includes('structured_outputs')) return 'json_schema';
  // At least one token of room for the answer when the request reserves none.
  if (!(await needs.prompt.fits(card.context_length, Math.max(1, needs.reservedOutput)))) return 'context';
  return undefined;
}

export const CAPABILITY_WORDING: Record<RerouteReason, { lacks: string; have: string; param: string; code: string }> = {
  vision: { lacks: 'does not accept image input', have: 'accept images', param: 'messages', code: 'image_input_not_supported' },
  tools: { lacks: 'does not support tools', have: 'support tools', param: 'tools', code: 'tools_not_supported' },
  json_schema: { lacks: 'does not support response_format json_schema', have: 'support it', param: 'response_format', code: 'json_schema_not_supported' },
  context: { lacks: 'has too small a context window for this request', have: 'have room for it', param: 'messages', code: 'context_length_exceeded' },
};
