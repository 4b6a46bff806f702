// Embeddings through the same model resolution, failover and metering as chat.
import type { EmbeddingRequest, EmbeddingResponse } from '../core/openai-types.js';
import { GatewayError } from '../core/errors.js';
import { planSimpleRoute } from '../router/planner.js';
import { resolveModel, type PipelineDeps, type RequestContext, type RouteReport } from './chat.js';
import { recordUpstreamOutcome } from './outcomes.js';
import { meterUsage } from './usage-meter.js';

export async function runEmbeddings(
  deps: PipelineDeps,
  request: EmbeddingRequest,
  ctx: RequestContext,
): Promise<RouteReport & { response: EmbeddingResponse }> {
  const requested = resolveModel(deps.catalog, request.model, 'embedding');
  const routed = await deps.router.route(planSimpleRoute(deps.catalog, requested), ctx.signal, async (_model, lease) => {
    const upstream = lease.deployment.upstream;
    if (!upstream.embed) {
      throw new GatewayError(`Deployment ${upstream.deployment} offers no embeddings.`, {
        status: 400, type: 'invalid_request_error', code: 'model_not_supported', param: 'model',
      });
    }
    try {
      return await upstream.embed(request, ctx);
    } catch (error) {
      recordUpstreamOutcome(deps.metrics, upstream.deployment, error);
      throw error;
    }
  });
  routed.lease.succeed();
  const deployment = routed.lease.deployment.name;
  const model = routed.model.config.id;
  recordUpstreamOutcome(deps.metrics, deployment);
  deps.metrics.attemptsPerRequest.observe(routed.attempts);
  const response = routed.value;
  response.model = model;
  meterUsage(deps.metrics, ctx.meter, model, deployment, response.usage);
  return { deployment, model, attempts: routed.attempts, ...(routed.fallback ? { rerouted: routed.fallback } : {}), response };
}
