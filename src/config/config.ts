// Step two of configuration: the resolved, cross-checked Config the rest of the program uses.
import type { ModelCard } from '../core/openai-types.js';
import type { DeploymentSettings, ProviderSettings } from '../providers/types.js';
import { ANONYMOUS_DEFAULTS, KEYED_DEFAULTS, tierSchema, type RawConfig, type REROUTE_REASONS, type STRATEGIES } from './schema.js';

export type ServerConfig = RawConfig['server'];
export type RoutingConfig = RawConfig['routing'];
export type StorageConfig = RawConfig['storage'];
export type AuthConfig = RawConfig['auth'];
export type LimitsConfig = RawConfig['limits'];
export type QueueConfig = RawConfig['queue'];
export type OverloadConfig = RawConfig['overload'];
export type TierConfig = LimitsConfig['tiers'][string];
export type Strategy = (typeof STRATEGIES)[number];
export type RerouteReason = (typeof REROUTE_REASONS)[number];
/** `auto`, `off`, or a named target per reason (a reason left out is not rerouted). */
export type ReroutePolicy = 'auto' | 'off' | Partial<Record<RerouteReason, string>>;

export interface DeploymentConfig extends DeploymentSettings {
  provider: string;
  weight: number;
  price?: { input_per_million: number; output_per_million: number };
  /** The upstream's own budget for this deployment: requests and tokens per minute, calls at once. */
  limits: { rpm?: number; tpm?: number; max_concurrency?: number };
}

export interface ModelConfig {
  id: string;
  type: 'chat' | 'embedding';
  deployments: string[];
  strategy: Strategy;
  fallbacks: string[];
  contentPolicyFallbacks: string[];
  reroute: ReroutePolicy;
  card: ModelCard;
}

export interface Config {
  server: ServerConfig;
  routing: RoutingConfig;
  storage: StorageConfig;
  auth: AuthConfig;
  limits: LimitsConfig;
  queue: QueueConfig;
  overload: OverloadConfig;
  providers: Map<string, ProviderSettings>;
  deployments: Map<string, DeploymentConfig>;
  models: Map<string, ModelConfig>;
  /** Where the configuration came from, for the start-up banner. */
  origin: { kind: 'file'; path: string } | { kind: 'environment'; variables: string[] } | { kind: 'simulator' };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const CHAT_PARAMETERS = [
  'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'seed', 'n',
  'presence_penalty', 'frequency_penalty', 'logprobs', 'top_logprobs', 'tools', 'tool_choice',
  'parallel_tool_calls', 'response_format', 'structured_outputs', 'stream', 'stream_options', 'user',
];
const EMBEDDING_PARAMETERS = ['encoding_format', 'dimensions', 'user'];

// A fixed timestamp keeps /v1/models byte-stable across restarts, as OpenAI's own `created` is.
const MODEL_CREATED = 1_735_689_600;

/** Cross-checks the raw file and builds the Config; every problem names its path. */
export function resolveConfig(raw: RawConfig, origin: Config['origin']): Config {
  const problems: string[] = [];
  const providers = new Map<string, ProviderSettings>();
  for (const [name, p] of Object.entries(raw.providers)) {
    providers.set(name, {
      name,
      kind: p.kind,
      baseUrl: p.base_url.replace(/\/+$/, ''),
      ...(p.api_key ? { apiKey: p.api_key } : {}),
      headers: p.headers,
      maxConnections: p.max_connections,
      timeouts: { connectMs: p.timeouts.connect_ms, firstByteMs: p.timeouts.first_byte_ms, idleMs: p.timeouts.idle_ms },
    });
  }

  const deployments = new Map<string, DeploymentConfig>();
  for (const [name, d] of Object.entries(raw.deployments)) {
    if (!providers.has(d.provider)) {
      problems.push(`deployments.${name}.provider: unknown provider "${d.provider}" (known: ${list(providers.keys())})`);
    }
    deployments.set(name, {
      name, provider: d.provider, upstreamModel: d.model, weight: d.weight, headers: d.headers,
      ...(d.default_max_tokens ? { defaultMaxTokens: d.default_max_tokens } : {}),
      ...(d.price ? { price: d.price } : {}),
      limits: d.limits,
    });
  }

  const models = new Map<string, ModelConfig>();
  for (const [id, m] of Object.entries(raw.models)) {
    m.deployments.forEach((deployment, i) => {
      if (!deployments.has(deployment)) {
        problems.push(`models.${id}.deployments[${i}]: unknown deployment "${deployment}" (known: ${list(deployments.keys())})`);
      }
    });
    if (m.type === 'embedding' && m.input_modalities.some((x) => x !== 'text')) {
      problems.push(`models.${id}.input_modalities: an embedding model takes text only`);
    }
    models.set(id, {
      id,
      type: m.type,
      deployments: m.deployments,
      strategy: m.strategy,
      fallbacks: m.fallbacks,
      contentPolicyFallbacks: m.content_policy_fallbacks,
      reroute: m.reroute,
      card: {
        id,
        object: 'model',
        created: MODEL_CREATED,
        owned_by: m.owned_by,
        context_length: m.context_length,
        architecture: {
          input_modalities: m.input_modalities,
          output_modalities: m.output_modalities ?? (m.type === 'embedding' ? ['embeddings'] : ['text']),
        },
        supported_parameters: m.supported_parameters ?? (m.type === 'embedding' ? EMBEDDING_PARAMETERS : CHAT_PARAMETERS),
      },
    });
  }
  if (models.size === 0) problems.push('models: at least one model is required');
  for (const [id, m] of Object.entries(raw.models)) problems.push(...modelReferenceProblems(id, m, raw.models));

  // The two tiers every gateway has, unless the file says otherwise: keyless callers and keys
  // without a tier. A key naming a tier that does not exist is an error, not unlimited.
  const limits = { ...raw.limits, tiers: { anonymous: tierSchema.parse(ANONYMOUS_DEFAULTS), default: tierSchema.parse(KEYED_DEFAULTS), ...raw.limits.tiers } };
  raw.auth.api_keys.forEach((key, i) => {
    if (!Object.hasOwn(limits.tiers, key.tier)) problems.push(`auth.api_keys[${i}].tier: unknown tier "${key.tier}" (known: ${list(Object.keys(limits.tiers))})`);
  });

  if (problems.length > 0) throw new ConfigError(problems);
  return { server: raw.server, routing: raw.routing, storage: raw.storage, auth: raw.auth, limits, queue: raw.queue, overload: raw.overload, providers, deployments, models, origin };
}

/** Fallbacks and reroute targets must name other models of the same type. */
function modelReferenceProblems(id: string, m: RawConfig['models'][string], all: RawConfig['models']): string[] {
  const problems: string[] = [];
  const check = (path: string, target: string): void => {
    const other = all[target];
    if (!other) problems.push(`models.${id}.${path}: unknown model "${target}" (known: ${list(Object.keys(all))})`);
    else if (target === id) problems.push(`models.${id}.${path}: a model cannot be its own fallback or reroute target`);
    else if (other.type !== m.type) problems.push(`models.${id}.${path}: "${target}" is ${other.type === 'chat' ? 'a chat' : 'an embedding'} model`);
  };
  m.fallbacks.forEach((target, i) => check(`fallbacks[${i}]`, target));
  m.content_policy_fallbacks.forEach((target, i) => check(`content_policy_fallbacks[${i}]`, target));
  if (typeof m.reroute === 'object') {
    for (const [reason, target] of Object.entries(m.reroute)) if (target) check(`reroute.${reason}`, target);
  }
  return problems;
}

function list(names: Iterable<string>): string {
  const all = [...names];
  return all.length > 0 ? all.join(', ') : 'none';
}
