// The public model names and the deployments behind each. Issue-level routing (strategies,
// failover, health) builds on this; for now a model's deployment is chosen by weight.
import type { ModelCard } from '../core/openai-types.js';
import type { Config, ModelConfig } from '../config/config.js';
import type { ProviderRegistry } from '../providers/registry.js';
import type { UpstreamModel } from '../providers/types.js';

export interface RoutedModel {
  readonly config: ModelConfig;
  readonly targets: ReadonlyArray<{ upstream: UpstreamModel; weight: number }>;
  readonly totalWeight: number;
}

export class ModelCatalog {
  private readonly models = new Map<string, RoutedModel>();
  private readonly cards: ModelCard[];

  constructor(config: Config, registry: ProviderRegistry) {
    const bound = new Map<string, UpstreamModel>();
    for (const deployment of config.deployments.values()) {
      const provider = config.providers.get(deployment.provider);
      if (provider) bound.set(deployment.name, registry.bind(provider, deployment));
    }
    for (const model of config.models.values()) {
      const targets = model.deployments.flatMap((name) => {
        const upstream = bound.get(name);
        const weight = config.deployments.get(name)?.weight ?? 1;
        return upstream ? [{ upstream, weight }] : [];
      });
      this.models.set(model.id, { config: model, targets, totalWeight: targets.reduce((sum, t) => sum + t.weight, 0) });
    }
    this.cards = [...config.models.values()].map((m) => m.card);
  }

  get(id: string): RoutedModel | undefined {
    return this.models.get(id);
  }

  list(): readonly ModelCard[] {
    return this.cards;
  }

  /** Weighted random choice; `random` is injectable so tests can pin the draw. */
  pick(model: RoutedModel, random: () => number = Math.random): UpstreamModel {
    if (model.targets.length === 1) return model.targets[0]!.upstream;
    let draw = random() * model.totalWeight;
    for (const target of model.targets) {
      draw -= target.weight;
      if (draw < 0) return target.upstream;
    }
    return model.targets[model.targets.length - 1]!.upstream;
  }
}
