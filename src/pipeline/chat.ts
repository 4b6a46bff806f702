// The one place a chat request's stages are composed. Streaming and non-streaming share it: the
// only difference is whether the upstream's answer arrives whole or as chunks, and both are
// renamed to the public model, metered, and handed back to http/ in canonical OpenAI shapes.
import type { ChatCompletion, ChatCompletionRequest } from '../core/openai-types.js';
import { GatewayError, isAbort, modelNotFound } from '../core/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { ModelCatalog, RoutedModel } from '../router/catalog.js';
import type { CallContext, ChunkStream } from '../providers/types.js';

export interface PipelineDeps {
  catalog: ModelCatalog;
  metrics: Metrics;
}

export interface RequestContext extends CallContext {
  /** performance.now() when the request arrived, for latency and time to first token. */
  receivedAt: number;
}

export type ChatReply =
  | { kind: 'completion'; deployment: string; completion: ChatCompletion }
  | { kind: 'stream'; deployment: string; chunks: ChunkStream };

export async function runChat(deps: PipelineDeps, request: ChatCompletionRequest, ctx: RequestContext): Promise<ChatReply> {
  const model = resolveModel(deps.catalog, request.model, 'chat');
  const upstream = deps.catalog.pick(model);
  const deployment = upstream.deployment;
  let outcome;
  try {
    outcome = await upstream.chat(request, ctx);
  } catch (error) {
    recordUpstreamOutcome(deps.metrics, deployment, error);
    throw error;
  }
  if (outcome.kind === 'completion') {
    recordUpstreamOutcome(deps.metrics, deployment);
    const completion = outcome.completion;
    completion.model = request.model;
    deps.metrics.recordUsage(request.model, deployment, completion.usage);
    return { kind: 'completion', deployment, completion };
  }
  return { kind: 'stream', deployment, chunks: relayChunks(deps, request, deployment, outcome.chunks, ctx) };
}

export function resolveModel(catalog: ModelCatalog, id: string, want: 'chat' | 'embedding'): RoutedModel {
  const model = catalog.get(id);
  if (!model) throw modelNotFound(id);
  if (model.config.type !== want) {
    const endpoint = want === 'chat' ? 'v1/chat/completions' : 'v1/embeddings';
    throw new GatewayError(`The model '${id}' is ${model.config.type === 'chat' ? 'a chat' : 'an embedding'} model and is not supported on ${endpoint}.`, {
      status: 400, type: 'invalid_request_error', code: 'model_not_supported', param: 'model',
    });
  }
  return model;
}

/** One upstream call's outcome: ok, aborted (the client left) or an error code by deployment. */
export function recordUpstreamOutcome(metrics: Metrics, deployment: string, error?: unknown): void {
  if (error === undefined) {
    metrics.upstreamRequests.inc({ deployment, outcome: 'ok' });
  } else if (error === ABORTED || isAbort(error)) {
    metrics.upstreamRequests.inc({ deployment, outcome: 'aborted' });
  } else {
    metrics.upstreamRequests.inc({ deployment, outcome: 'error' });
    metrics.upstreamErrors.inc({ deployment, code: error instanceof GatewayError ? error.code : 'internal' });
  }
}

/**
 * Renames chunks to the public model and meters them. The adapter always asks upstream for usage,
 * so the usage-only chunk is dropped again when the client did not ask for it, as OpenAI does.
 */
function relayChunks(
  deps: PipelineDeps,
  request: ChatCompletionRequest,
  deployment: string,
  upstream: ChunkStream,
  ctx: RequestContext,
): ChunkStream {
  const wantsUsage = request.stream_options?.include_usage === true;
  const model = request.model;
  let firstTokenSeen = false;
  let recorded = false;
  const record = (error?: unknown): void => {
    if (recorded) return;
    recorded = true;
    recordUpstreamOutcome(deps.metrics, deployment, error);
  };
  return {
    pipe(sink) {
      upstream.pipe({
        chunk(chunk) {
          chunk.model = model;
          if (chunk.usage) deps.metrics.recordUsage(model, deployment, chunk.usage);
          if (!firstTokenSeen && chunk.choices.some((c) => c.delta.content || c.delta.tool_calls || c.delta.refusal)) {
            firstTokenSeen = true;
            deps.metrics.timeToFirstToken.observe({ model, deployment }, (performance.now() - ctx.receivedAt) / 1000);
          }
          if (!wantsUsage) {
            if (chunk.choices.length === 0 && chunk.usage) return;
            delete chunk.usage;
          }
          sink.chunk(chunk);
        },
        end() {
          record();
          sink.end();
        },
        error(error) {
          record(error);
          sink.error(error);
        },
      });
    },
    pause: () => upstream.pause(),
    resume: () => upstream.resume(),
    cancel() {
      record(ABORTED);
      upstream.cancel();
    },
  };
}

const ABORTED = Symbol('aborted');
