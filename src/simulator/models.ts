// The simulated model catalog. The gateway reuses this list for its default configuration when no
// real provider is reachable, so the capability metadata here must be honest: the simulator
// enforces exactly what it advertises (image input, context length, output cap).
import type { ModelCard } from '../core/openai-types.js';

export type SimModelKind = 'chat' | 'embedding';

export interface SimPacing {
  /** Time to first token in milliseconds. */
  ttftMs: number;
  /** Generated tokens per second; 0 means no delay between tokens. */
  tokensPerSecond: number;
}

export interface SimModel {
  id: string;
  kind: SimModelKind;
  context_length: number;
  /** Largest max_tokens / max_completion_tokens accepted (chat models only). */
  max_output_tokens: number;
  input_modalities: string[];
  output_modalities: string[];
  supported_parameters: string[];
  /** Embedding width (embedding models only). */
  dimensions?: number;
  pacing: SimPacing;
}

const CHAT_PARAMETERS = [
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'seed',
  'stop',
  'n',
  'temperature',
  'top_p',
  'max_tokens',
  'max_completion_tokens',
  'logprobs',
  'top_logprobs',
  'presence_penalty',
  'frequency_penalty',
  'stream',
  'stream_options',
];

/** A fixed creation time, so /v1/models answers the same bytes on every run. */
export const SIM_MODEL_CREATED = 1_735_689_600; // 2025-01-01T00:00:00Z

export const SIM_MODELS: readonly SimModel[] = Object.freeze([
  {
    id: 'sim-chat',
    kind: 'chat',
    context_length: 16_384,
    max_output_tokens: 4_096,
    input_modalities: ['text'],
    output_modalities: ['text'],
    supported_parameters: CHAT_PARAMETERS,
    pacing: { ttftMs: 200, tokensPerSecond: 50 },
  },
  {
    id: 'sim-vision',
    kind: 'chat',
    context_length: 131_072,
    max_output_tokens: 16_384,
    input_modalities: ['text', 'image'],
    output_modalities: ['text'],
    supported_parameters: CHAT_PARAMETERS,
    pacing: { ttftMs: 350, tokensPerSecond: 40 },
  },
  {
    // Deliberately small context: used to exercise "prompt too long -> reroute to a bigger model".
    id: 'sim-small',
    kind: 'chat',
    context_length: 4_096,
    max_output_tokens: 1_024,
    input_modalities: ['text'],
    output_modalities: ['text'],
    supported_parameters: CHAT_PARAMETERS,
    pacing: { ttftMs: 100, tokensPerSecond: 120 },
  },
  {
    id: 'sim-embed',
    kind: 'embedding',
    context_length: 8_191,
    max_output_tokens: 0,
    input_modalities: ['text'],
    output_modalities: ['embeddings'],
    supported_parameters: ['encoding_format', 'dimensions', 'user'],
    dimensions: 256,
    pacing: { ttftMs: 30, tokensPerSecond: 0 },
  },
]);

const byId = new Map(SIM_MODELS.map((m) => [m.id, m]));

export function findSimModel(id: string): SimModel | undefined {
  return byId.get(id);
}

export function toModelCard(model: SimModel): ModelCard {
  return {
    id: model.id,
    object: 'model',
    created: SIM_MODEL_CREATED,
    owned_by: 'floodgate-simulator',
    context_length: model.context_length,
    architecture: { input_modalities: [...model.input_modalities], output_modalities: [...model.output_modalities] },
    supported_parameters: [...model.supported_parameters],
  };
}

export function simModelCards(): ModelCard[] {
  return SIM_MODELS.map(toModelCard);
}
