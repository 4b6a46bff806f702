// Embeddings through the same model resolution, failover and metering as chat.
import type { EmbeddingRequest, EmbeddingResponse } from '../core/openai-types.js';
import { GatewayError } from '../core/errors.js';
import { planSimpleRoute } from '../router/planner.js';
import { budgetAware, resolveModel, routeFailed, type PipelineDeps, type RequestContext, type RouteReport } from './chat.js';
import { recordUpstreamOutcome } from './outcomes.js';
import { meterUsage } from './usage-meter.js';

export async function runEmbeddings(
  deps: PipelineDeps,
  request: EmbeddingRequest,
  ctx: RequestContext,
): Promise<RouteReport & { response: EmbeddingResponse }> {
  const requested = resolveModel(deps.catalog, request.model, 'embedding');
  const demand = { tokens: inputBound(request.input), ...(ctx.client ? { client: ctx.client } : {}) };
  const routed = await deps.router.route(planSimpleRoute(deps.catalog, requested), ctx.signal, async (_model, lease) => {
    const upstream = lease.deployment.upstream;
    if (!upstream.embed) {
      throw new GatewayError(`Deployment ${upstream.deployment} offers no embeddings.`, {
        status: 400, type: 'invalid_request_error', code: 'model_not_supported', param: 'model',
      });
    }
    try {
      return await upstream.embed(request, budgetAware(ctx, lease));
    } catch (error) {
      recordUpstreamOutcome(deps.metrics, upstream.deployment, error);
      throw error;
    }
  }, demand).catch(routeFailed(ctx));
  routed.lease.recordUsage(routed.value.usage);
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

/**
 * Tokens an embedding request is charged against upstream budgets until its usage is known: a
 * bound that never undercounts (a token covers at least one UTF-8 byte; token-id arrays count
 * one each), settled against the real count when the upstream answers.
 */
function inputBound(input: EmbeddingRequest['input']): number {
  const items: unknown[] = Array.isArray(input) ? input : [input];
  return items.reduce<number>((sum, item) => sum + (typeof item === 'string' ? Buffer.byteLength(item) : Array.isArray(item) ? item.length : 1), 0);
}
