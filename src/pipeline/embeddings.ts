// Embeddings through the same model resolution and metering as chat.
import type { EmbeddingRequest, EmbeddingResponse } from '../core/openai-types.js';
import { GatewayError } from '../core/errors.js';
import { recordUpstreamOutcome, resolveModel, type PipelineDeps, type RequestContext } from './chat.js';

export async function runEmbeddings(
  deps: PipelineDeps,
  request: EmbeddingRequest,
  ctx: RequestContext,
): Promise<{ deployment: string; response: EmbeddingResponse }> {
  const model = resolveModel(deps.catalog, request.model, 'embedding');
  const upstream = deps.catalog.pick(model);
  if (!upstream.embed) {
    throw new GatewayError(`Deployment ${upstream.deployment} offers no embeddings.`, {
      status: 400, type: 'invalid_request_error', code: 'model_not_supported', param: 'model',
    });
  }
  try {
    const response = await upstream.embed(request, ctx);
    response.model = request.model;
    recordUpstreamOutcome(deps.metrics, upstream.deployment);
    deps.metrics.recordUsage(request.model, upstream.deployment, response.usage);
    return { deployment: upstream.deployment, response };
  } catch (error) {
    recordUpstreamOutcome(deps.metrics, upstream.deployment, error);
    throw error;
  }
}
