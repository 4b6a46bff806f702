// The public model names and the deployments behind each. Deployment state (health, in-flight,
// latency, upstream budget) is shared: two models over one deployment see the same breaker,
// cooldown and budget. Requests that find every budget spent wait in the one waiting room.
import type { ModelCard } from '../core/openai-types.js';
import type { Config, ModelConfig } from '../config/config.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { BudgetBackend } from '../budget/backend.js';
import { DeploymentBudget } from '../budget/deployment-budget.js';
import { MemoryBudgetBackend } from '../budget/memory-backend.js';
import { WaitingRoom, type WaitEvent } from '../budget/waiting-room.js';
import type { BreakerState } from './breaker.js';
import { DeploymentState } from './deployment-state.js';
import type { Candidate } from './strategies/index.js';

export interface RoutedModel {
  readonly config: ModelConfig;
  /** The model's deployments in configured order, with their weights for this model. */
  readonly candidates: readonly Candidate[];
}

export interface CatalogOptions {
  now?: () => number;
  onBreakerChange?: (deployment: string, state: BreakerState) => void;
  /** Where upstream budgets live: Redis in scale-out (RedisBudgetBackend); default this process. */
  budgetBackend?: BudgetBackend;
  /** How each wait for upstream budget ended, for metrics. */
  onWait?: (event: WaitEvent, waitedMs: number) => void;
}

export class ModelCatalog {
  private readonly models = new Map<string, RoutedModel>();
  private readonly cards: ModelCard[];
  readonly deployments = new Map<string, DeploymentState>();
  readonly waitingRoom: WaitingRoom;

  constructor(config: Config, registry: ProviderRegistry, options: CatalogOptions = {}) {
    const now = options.now ?? Date.now;
    const onBreakerChange = options.onBreakerChange ?? (() => {});
    const local = new MemoryBudgetBackend(now);
    const shared = options.budgetBackend ?? local;
    const room = new WaitingRoom(config.queue, { now, ...(options.onWait ? { onEvent: options.onWait } : {}) });
    this.waitingRoom = room;
    for (const deployment of config.deployments.values()) {
      const provider = config.providers.get(deployment.provider);
      if (!provider) continue;
      const upstream = registry.bind(provider, deployment);
      // A deployment without configured limits keeps its (learned) budget locally: sharing it
      // would cost a Redis round trip on every call for nothing to enforce.
      const limited = Object.values(deployment.limits).some((limit) => limit !== undefined);
      const budget = new DeploymentBudget(deployment.name, deployment.limits, limited ? shared : local, { onFree: () => room.poke(deployment.name), now });
      this.deployments.set(deployment.name, new DeploymentState(upstream, config.routing, now, onBreakerChange, budget));
    }
    for (const model of config.models.values()) {
      const candidates = model.deployments.flatMap((name) => {
        const state = this.deployments.get(name);
        return state ? [{ state, weight: config.deployments.get(name)?.weight ?? 1 }] : [];
      });
      this.models.set(model.id, { config: model, candidates });
    }
    this.cards = [...config.models.values()].map((m) => m.card);
  }

  get(id: string): RoutedModel | undefined {
    return this.models.get(id);
  }

  /** Every model, in configured order (the order `reroute: auto` breaks ties by). */
  all(): IterableIterator<RoutedModel> {
    return this.models.values();
  }

  list(): readonly ModelCard[] {
    return this.cards;
  }
}
