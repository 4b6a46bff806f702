// The format-agnostic request the engine answers. Each wire format (OpenAI today; Anthropic and
// Gemini later) validates its own JSON and normalises it into this shape.
import type { JsonSchema } from '../core/openai-types.js';
import type { SimModel } from './models.js';

export interface SimMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** All text parts joined: the only part of the content the engine and token counter read. */
  text: string;
  images: number;
  name?: string;
  toolCalls?: Array<{ name: string; arguments: string }>;
}

export interface SimTool {
  name: string;
  parameters?: JsonSchema;
}

export type SimToolChoice = 'none' | 'auto' | 'required' | { name: string };

export type SimOutputFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: JsonSchema };

export interface SimRequest {
  model: SimModel;
  messages: SimMessage[];
  tools: SimTool[];
  toolChoice: SimToolChoice;
  output: SimOutputFormat;
  n: number;
  stop: string[];
  maxTokens?: number;
  seed?: number;
  /** Exact answer length in tokens for text answers (header x-sim-tokens); benchmarks use it. */
  answerTokens?: number;
  /** Prompt size as counted by countPromptTokens, computed once during normalisation. */
  promptTokens: number;
}

export type SimFinishReason = 'stop' | 'length' | 'tool_calls';

export interface SimToolCall {
  id: string;
  name: string;
  /** The arguments JSON split into token pieces (joined, they are the full arguments string). */
  argumentPieces: readonly string[];
}

export interface SimChoice {
  index: number;
  /** Content as token pieces, or null when the answer is tool calls only. */
  contentPieces: readonly string[] | null;
  toolCalls: SimToolCall[];
  finishReason: SimFinishReason;
  completionTokens: number;
}

export interface SimAnswer {
  choices: SimChoice[];
  promptTokens: number;
  completionTokens: number;
}
