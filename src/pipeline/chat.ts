// The one place a chat request's stages are composed: resolve the model, plan the route
// (capabilities, reroute, fallbacks), then let the router try deployments until one answers.
// Streaming and non-streaming share it: a stream counts as answered once its first meaningful
// chunk arrived, so failover covers everything before the client has seen a byte.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest } from '../core/openai-types.js';
import type { RerouteReason } from '../config/config.js';
import { GatewayError, modelNotFound } from '../core/errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { ModelCatalog, RoutedModel } from '../router/catalog.js';
import type { AttemptLease } from '../router/deployment-state.js';
import { planChatRoute, type ChatRoute } from '../router/planner.js';
import type { FallbackReason, RoutePlan, Router } from '../router/router.js';
import type { CallContext, ChunkStream } from '../providers/types.js';
import { primeStream } from './prime-stream.js';
import { relayChunks } from './relay.js';
import { recordUpstreamOutcome } from './outcomes.js';
import { DEFAULT_OUTPUT_RESERVE } from './token-estimate.js';
import { meterUsage, type UsageMeter } from './usage-meter.js';

export interface PipelineDeps {
  catalog: ModelCatalog;
  router: Router;
  metrics: Metrics;
}

export interface RequestContext extends CallContext {
  /** performance.now() when the request arrived, for latency and time to first token. */
  receivedAt: number;
  /** Where this request's usage is gathered for its usage record. */
  meter?: UsageMeter;
  /**
   * Who is asking, for the fair queue in front of spent upstream budgets: one round-robin turn
   * per key, higher priority first (the tier's). Absent: every caller is one anonymous client.
   */
  client?: { key: string; priority: number };
}

/** How the answer was reached, for the response headers. */
export interface RouteReport {
  deployment: string;
  /** The model that answered: the one requested, a reroute target or a fallback. */
  model: string;
  attempts: number;
  rerouted?: RerouteReason | FallbackReason;
}

export type ChatReply =
  | (RouteReport & { kind: 'completion'; completion: ChatCompletion })
  | (RouteReport & { kind: 'stream'; chunks: ChunkStream });

type Answer = { kind: 'completion'; completion: ChatCompletion } | { kind: 'stream'; chunks: ChunkStream };

export async function runChat(deps: PipelineDeps, request: ChatCompletionRequest, ctx: RequestContext): Promise<ChatReply> {
  const requested = resolveModel(deps.catalog, request.model, 'chat');
  const route = await planChatRoute(deps.catalog, requested, request);
  if (route.rerouted) deps.metrics.reroutes.inc({ from: requested.config.id, to: route.plan.models[0]!.config.id, reason: route.rerouted });

  const demand = { tokens: budgetTokens(route, request), ...(ctx.client ? { client: ctx.client } : {}) };
  const routed = await deps.router.route<Answer>(route.plan, ctx.signal, async (_model, lease) => {
    const deployment = lease.deployment.name;
    try {
      const outcome = await lease.deployment.upstream.chat(request, budgetAware(ctx, lease));
      if (outcome.kind === 'completion') {
        // Some upstreams refuse with a 200 (Anthropic's stop_reason "refusal", Gemini's SAFETY):
        // with content-policy fallbacks configured, that is a refusal to route around.
        if (route.plan.contentPolicyFallbacks.length > 0 && isFilteredAnswer(outcome.completion)) throw contentFiltered(deployment);
        return outcome;
      }
      const primed = await primeStream(outcome.chunks, ctx.signal);
      // A stream that opens with a content-filter finish and nothing else is a refusal, as above.
      if (route.plan.contentPolicyFallbacks.length > 0 && primed.first && isFilteredOpening(primed.first)) {
        primed.stream.cancel();
        throw contentFiltered(deployment);
      }
      return { kind: 'stream', chunks: primed.stream };
    } catch (error) {
      recordUpstreamOutcome(deps.metrics, deployment, error);
      throw error;
    }
  }, demand).catch(routeFailed(ctx));

  const model = routed.model.config.id;
  const deployment = routed.lease.deployment.name;
  deps.metrics.attemptsPerRequest.observe(routed.attempts);
  const report: RouteReport = { deployment, model, attempts: routed.attempts };
  const reason = route.rerouted ?? routed.fallback;
  if (reason) report.rerouted = reason;

  if (routed.value.kind === 'completion') {
    const completion = routed.value.completion;
    routed.lease.recordUsage(completion.usage);
    routed.lease.succeed();
    recordUpstreamOutcome(deps.metrics, deployment);
    completion.model = model;
    meterUsage(deps.metrics, ctx.meter, model, deployment, completion.usage);
    return { ...report, kind: 'completion', completion };
  }
  const chunks = relayChunks({
    metrics: deps.metrics, request, model, deployment, lease: routed.lease, prompt: route.needs.prompt, receivedAt: ctx.receivedAt, signal: ctx.signal, meter: ctx.meter,
  }, routed.value.chunks);
  return { ...report, kind: 'stream', chunks };
}

/**
 * Tokens a request is charged against upstream budgets until its usage is known: the prompt plus
 * the output it may produce (max_tokens, or a default reserve), per choice. The prompt is
 * estimated from its size when a deployment of the plan has a configured tpm; elsewhere tokens
 * decide no admission, and the cheaper byte bound (an overestimate) only orders the fair queue.
 */
function budgetTokens(route: ChatRoute, request: ChatCompletionRequest): number {
  // Never the exact count: see PromptSize.estimate. The real usage settles the budget afterwards.
  const prompt = countsTokens(route.plan) ? route.needs.prompt.estimate() : route.needs.prompt.upperBound();
  const output = route.needs.reservedOutput > 0 ? route.needs.reservedOutput : DEFAULT_OUTPUT_RESERVE;
  return prompt + output * Math.max(1, request.n ?? 1);
}

function countsTokens(plan: RoutePlan): boolean {
  return plan.models.some((m) => m.candidates.some((c) => c.state.budget.countsTokens));
}

/** Notes on the request's meter why routing gave up, then passes the failure on. */
export function routeFailed(ctx: RequestContext): (error: unknown) => never {
  return (error) => {
    ctx.meter?.routeFailed(error);
    throw error;
  };
}

/** The call's context, with the upstream's rate-limit headers going to its deployment's budget. */
export function budgetAware(ctx: RequestContext, lease: AttemptLease): RequestContext {
  return { ...ctx, onResponseHeaders: (headers) => lease.deployment.budget.observe(headers) };
}

function isFilteredAnswer(completion: ChatCompletion): boolean {
  return completion.choices.length > 0 && completion.choices.every((c) => c.finish_reason === 'content_filter');
}

function isFilteredOpening(chunk: ChatCompletionChunk): boolean {
  return chunk.choices.length > 0 && chunk.choices.every((c) => c.finish_reason === 'content_filter' && !c.delta.content && !c.delta.tool_calls);
}

const contentFiltered = (deployment: string): GatewayError =>
  new GatewayError(`Upstream ${deployment} declined to answer under its content policy.`, {
    status: 400, type: 'invalid_request_error', code: 'content_policy_violation', deployment,
  });

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
