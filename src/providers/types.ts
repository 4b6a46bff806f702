// The provider adapter contract. One deployment = one provider + one upstream model; the pipeline
// calls `chat` for streaming and non-streaming alike and gets back either a whole completion or a
// stream of chunks, always in OpenAI's canonical shapes (core/openai-types.ts).
import type { Dispatcher } from 'undici';
import type { CancelSignal } from '../core/cancel.js';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../core/openai-types.js';

export interface CallContext {
  /** Aborted when the client disconnects or a deadline passes; adapters must pass it to the socket. */
  signal: CancelSignal;
  requestId: string;
  /** Told every upstream response's headers (errors too): its rate-limit headers feed the budget. */
  onResponseHeaders?: (headers: Record<string, string | string[] | undefined>) => void;
}

/** What an upstream answered. `model` inside is the upstream's; the pipeline renames it. */
export type ChatOutcome =
  | { kind: 'completion'; completion: ChatCompletion }
  | { kind: 'stream'; chunks: ChunkStream };

/** Receives a stream's chunks as they arrive; exactly one of `end` or `error` comes last. */
export interface ChunkSink {
  chunk(chunk: ChatCompletionChunk): void;
  end(): void;
  /** A GatewayError for upstream failures, or the abort reason when the call was cancelled. */
  error(error: unknown): void;
}

/**
 * A stream of chunks pushed to one sink. Push, not pull: with thousands of open streams a
 * promise per event per layer (async iterators) costs more CPU and garbage than the relay itself.
 */
export interface ChunkStream {
  /** Starts delivery; call once. */
  pipe(sink: ChunkSink): void;
  /** Backpressure: stop reading the upstream until resume(). */
  pause(): void;
  resume(): void;
  /** Stop reading and release the upstream connection; no further sink calls. */
  cancel(): void;
}

/** A bound upstream model. Failures are thrown as GatewayError with `deployment` set. */
export interface UpstreamModel {
  readonly deployment: string;
  chat(request: ChatCompletionRequest, ctx: CallContext): Promise<ChatOutcome>;
  /** Present only when the upstream offers embeddings. */
  embed?(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse>;
}

/** How a provider kind is configured (from config/ after validation). */
export interface ProviderSettings {
  name: string;
  kind: string;
  baseUrl: string;
  apiKey?: string;
  headers: Record<string, string>;
  timeouts: { connectMs: number; firstByteMs: number; idleMs: number };
  maxConnections: number;
}

export interface DeploymentSettings {
  name: string;
  upstreamModel: string;
  /** Extra headers for this deployment's calls only (e.g. a simulator fault for chaos runs). */
  headers: Record<string, string>;
  /** For upstreams that require max_tokens (Anthropic): what to send when the caller sets none. */
  defaultMaxTokens?: number;
}

/** A provider kind: builds bound models over one shared transport. */
export interface ProviderKind {
  readonly kind: string;
  create(provider: ProviderSettings, deployment: DeploymentSettings, transport: Dispatcher): UpstreamModel;
}
