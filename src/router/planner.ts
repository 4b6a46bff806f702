// Turns "model X" into a route plan: the model that will actually serve the request (X, or a
// capable model when X cannot take this request and rerouting allows it), then its fallbacks that
// can serve it too. A request nobody configured can serve is refused here with a 400 that names
// the missing capability and the models that have it.
import type { ModelConfig, RerouteReason } from '../config/config.js';
import { GatewayError } from '../core/errors.js';
import type { ChatCompletionRequest } from '../core/openai-types.js';
import { CAPABILITY_WORDING, missingCapability, needsOf, type Needs } from './capabilities.js';
import type { ModelCatalog, RoutedModel } from './catalog.js';
import type { RoutePlan } from './router.js';

export interface ChatRoute {
  plan: RoutePlan;
  /** Set when the serving model is not the one requested, and why. */
  rerouted?: RerouteReason;
  needs: Needs;
}

export async function planChatRoute(catalog: ModelCatalog, requested: RoutedModel, request: ChatCompletionRequest): Promise<ChatRoute> {
  const needs = needsOf(request);
  const missing = await missingCapability(requested.config, needs);
  let serving = requested;
  if (missing) {
    const capable = await capableModels(catalog, requested, needs);
    const target = rerouteTarget(requested.config, missing, capable);
    if (!target) {
      const promptTokens = missing === 'context' ? await needs.prompt.tokens() : 0;
      throw capabilityMissing(requested.config, missing, capable, needs, promptTokens);
    }
    serving = target;
  }
  return {
    plan: {
      models: [serving, ...(await usable(catalog, serving.config.fallbacks, needs))],
      contentPolicyFallbacks: await usable(catalog, serving.config.contentPolicyFallbacks, needs),
      biggerModels: async () => biggerModels(serving.config, await capableModels(catalog, serving, needs)),
      waitingRoom: catalog.waitingRoom,
    },
    ...(missing ? { rerouted: missing } : {}),
    needs,
  };
}

/** Without capabilities to check (embeddings): the model, then its fallbacks. */
export function planSimpleRoute(catalog: ModelCatalog, requested: RoutedModel): RoutePlan {
  const lookup = (ids: string[]): RoutedModel[] => ids.flatMap((id) => catalog.get(id) ?? []);
  return {
    models: [requested, ...lookup(requested.config.fallbacks)],
    contentPolicyFallbacks: lookup(requested.config.contentPolicyFallbacks),
    waitingRoom: catalog.waitingRoom,
  };
}

/** Chat models other than `requested` that can serve the request, in configured order. */
async function capableModels(catalog: ModelCatalog, requested: RoutedModel, needs: Needs): Promise<RoutedModel[]> {
  const capable: RoutedModel[] = [];
  for (const model of catalog.all()) {
    if (model === requested || model.config.type !== 'chat' || model.candidates.length === 0) continue;
    if ((await missingCapability(model.config, needs)) === undefined) capable.push(model);
  }
  return capable;
}

async function usable(catalog: ModelCatalog, ids: string[], needs: Needs): Promise<RoutedModel[]> {
  const models: RoutedModel[] = [];
  for (const id of ids) {
    const model = catalog.get(id);
    if (model && (await missingCapability(model.config, needs)) === undefined) models.push(model);
  }
  return models;
}

/**
 * The reroute target the model's policy allows: a named model when the policy names one (used
 * only if it is capable), or under `auto` the closest capable model: same owner first, then the
 * nearest context window (for a long prompt: the smallest window that fits), then config order.
 */
function rerouteTarget(model: ModelConfig, reason: RerouteReason, capable: RoutedModel[]): RoutedModel | undefined {
  const policy = model.reroute;
  if (policy === 'off') return undefined;
  if (policy !== 'auto') {
    const named = policy[reason];
    return named ? capable.find((m) => m.config.id === named) : undefined;
  }
  const size = model.card.context_length;
  const distance = (m: RoutedModel): number =>
    (m.config.card.owned_by === model.card.owned_by ? 0 : 1000) + Math.abs(Math.log(m.config.card.context_length / size));
  return capable.reduce<RoutedModel | undefined>((best, m) => (best === undefined || distance(m) < distance(best) ? m : best), undefined);
}

/**
 * When an upstream counts the prompt as too long after all: capable models with a bigger window
 * than the serving one, as the reroute policy allows (`auto`: nearest first; a map: its context
 * target; `off`: none).
 */
function biggerModels(model: ModelConfig, capable: RoutedModel[]): RoutedModel[] {
  const window = model.card.context_length;
  const bigger = capable.filter((m) => m.config.card.context_length > window);
  const policy = model.reroute;
  if (policy === 'off') return [];
  if (policy !== 'auto') return bigger.filter((m) => m.config.id === policy.context);
  return bigger.sort((a, b) => a.config.card.context_length - b.config.card.context_length);
}

function capabilityMissing(model: ModelConfig, reason: RerouteReason, capable: RoutedModel[], needs: Needs, promptTokens: number): GatewayError {
  const wording = CAPABILITY_WORDING[reason];
  const others = capable.length > 0 ? `Models that ${wording.have}: ${capable.map((m) => m.config.id).join(', ')}.` : `No configured model can serve this request.`;
  const size = reason === 'context'
    ? ` The prompt is about ${promptTokens} tokens, plus ${needs.reservedOutput} reserved for output, against a window of ${model.card.context_length}.`
    : '';
  const policy = model.reroute === 'off' ? ' Rerouting is turned off for this model.' : '';
  return new GatewayError(`The model '${model.id}' ${wording.lacks}.${size}${policy} ${others}`, {
    status: 400, type: 'invalid_request_error', code: wording.code, param: wording.param,
  });
}
