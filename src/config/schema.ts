// Step one of configuration: the strict shape of the raw YAML file. Unknown keys are errors so a
// typo never silently does nothing. Cross-references (a deployment naming a provider) are checked
// in resolve.ts, whose errors name the path too.
import { z } from 'zod';
import { overloadSchema } from '../overload/overload-schema.js';

const name = z.string().min(1).regex(/^[A-Za-z0-9._:/@-]+$/, 'letters, digits and . _ : / @ - only');
const headers = z.record(z.string(), z.string());

/** pino's levels; LOG_LEVEL is checked against the same list. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Upstream wire formats; each has an adapter under providers/ registered in providers/registry.ts. */
export const PROVIDER_KINDS = ['openai-compatible', 'anthropic', 'gemini'] as const;

export const providerSchema = z.strictObject({
  /** The wire format: OpenAI's (and every compatible server's), Anthropic's Messages API, or Gemini's. */
  kind: z.enum(PROVIDER_KINDS).default('openai-compatible'),
  base_url: z.url({ protocol: /^https?$/ }),
  api_key: z.string().optional(),
  headers: headers.default({}),
  max_connections: z.int().positive().max(1_000_000).default(256),
  timeouts: z
    .strictObject({
      connect_ms: z.int().positive().default(10_000),
      first_byte_ms: z.int().positive().default(120_000),
      idle_ms: z.int().positive().default(120_000),
    })
    .default({ connect_ms: 10_000, first_byte_ms: 120_000, idle_ms: 120_000 }),
});

export const deploymentSchema = z.strictObject({
  provider: name,
  model: z.string().min(1),
  weight: z.number().positive().default(1),
  headers: headers.default({}),
  /** Sent when the caller sets no max_tokens, for upstreams that require one (Anthropic: 4096 if unset). */
  default_max_tokens: z.int().positive().optional(),
  /** US dollars per million tokens, for the cost column of usage records (none when unset). */
  price: z.strictObject({ input_per_million: z.number().min(0), output_per_million: z.number().min(0) }).optional(),
  limits: z
    .strictObject({
      rpm: z.int().positive().optional(),
      tpm: z.int().positive().optional(),
      max_concurrency: z.int().positive().optional(),
    })
    .default({}),
});

const modality = z.enum(['text', 'image', 'audio', 'file']);

/** How a model's deployments are ordered for each request; one module each under router/strategies/. */
export const STRATEGIES = ['weighted', 'least-in-flight', 'lowest-latency', 'priority'] as const;

/** Why a request can need a different model than the one it named. */
export const REROUTE_REASONS = ['vision', 'tools', 'json_schema', 'context'] as const;

const rerouteSchema = z.union([
  z.literal('auto'),
  z.literal('off'),
  z.strictObject(Object.fromEntries(REROUTE_REASONS.map((r) => [r, name.optional()])) as Record<(typeof REROUTE_REASONS)[number], z.ZodOptional<typeof name>>),
]);

export const modelSchema = z.strictObject({
  type: z.enum(['chat', 'embedding']).default('chat'),
  deployments: z.array(name).min(1),
  strategy: z.enum(STRATEGIES).default('weighted'),
  /** Models tried, in order, once this model's own deployments are exhausted. */
  fallbacks: z.array(name).default([]),
  /** Models tried when an upstream refuses the request on content-policy grounds. */
  content_policy_fallbacks: z.array(name).default([]),
  /**
   * A request this model cannot serve (an image, tools, a JSON schema, a prompt too long) goes to
   * a capable model: `auto` picks the closest one, a map names one per reason, `off` answers 400.
   */
  reroute: rerouteSchema.default('auto'),
  owned_by: z.string().default('floodgate'),
  context_length: z.int().positive().default(8192),
  input_modalities: z.array(modality).min(1).default(['text']),
  output_modalities: z.array(z.enum(['text', 'image', 'audio', 'embeddings'])).min(1).optional(),
  supported_parameters: z.array(z.string()).optional(),
});

export const serverSchema = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.int().min(0).max(65_535).default(8080),
  body_limit_bytes: z.int().positive().max(64 * 1024 * 1024).default(32 * 1024 * 1024),
  max_messages: z.int().positive().default(2048),
  max_json_depth: z.int().positive().max(1000).default(64),
  shutdown_grace_ms: z.int().min(0).default(30_000),
  log_level: z.enum(LOG_LEVELS).default('info'),
  access_log: z.boolean().default(true),
});

export const routingSchema = z.strictObject({
  /** Upstream calls per request at most, the first included. */
  max_attempts: z.int().min(1).max(10).default(3),
  /** Backoff before calling a deployment that already failed this request: full jitter, doubling. */
  backoff_base_ms: z.int().min(0).default(100),
  backoff_max_ms: z.int().min(0).default(2_000),
  /** Waiting for a deployment used when an upstream rate-limits without saying for how long. */
  cooldown_ms: z.int().min(0).default(1_000),
  /** The whole request, every attempt and the stream included; the openai SDK's own default. */
  total_timeout_ms: z.int().positive().default(600_000),
  /** A stream waiting for its first token gets an SSE comment this often, so proxies keep it open. */
  stream_keepalive_ms: z.int().positive().default(15_000),
  retry_budget: z
    .strictObject({
      /** Extra attempts allowed as a share of requests in the window. */
      ratio: z.number().min(0).max(10).default(0.2),
      window_s: z.int().positive().default(10),
      /** Retries always allowed per window, so a quiet gateway still fails over. */
      min_retries: z.int().min(0).default(10),
    })
    .default({ ratio: 0.2, window_s: 10, min_retries: 10 }),
  breaker: z
    .strictObject({
      consecutive_failures: z.int().positive().default(5),
      /** Opens when this share of calls failed in the window, once min_calls were made. */
      failure_rate: z.number().gt(0).max(1).default(0.5),
      window_s: z.int().positive().default(30),
      min_calls: z.int().positive().default(20),
      /** Open this long before a probe; doubles on each failed probe up to max_open_ms. */
      open_ms: z.int().positive().default(10_000),
      max_open_ms: z.int().positive().default(120_000),
    })
    .default({ consecutive_failures: 5, failure_rate: 0.5, window_s: 30, min_calls: 20, open_ms: 10_000, max_open_ms: 120_000 }),
});


export const storageSchema = z.strictObject({
  /** postgres://... : PostgreSQL. Absent: PGlite (embedded) in data_dir. The DATABASE_URL variable overrides it. */
  database_url: z.string().min(1).optional(),
  /** PGlite's directory; `memory://` keeps the database in memory (lost on exit). */
  data_dir: z.string().min(1).default('./data/pglite'),
  /** redis://... : scale-out mode, hot history in a Redis Stream. The REDIS_URL variable overrides it. */
  redis_url: z.string().min(1).optional(),
  /** The Redis Stream (and key prefix) the history flows through; nodes sharing it share history. */
  stream_key: z.string().min(1).default('floodgate:history'),
  flush: z
    .strictObject({
      /** Entries per database transaction at most. */
      batch_size: z.int().positive().max(10_000).default(500),
      /** A partial batch waits at most this long. */
      interval_ms: z.int().positive().default(1_000),
      /** Entries waiting at most (embedded: in memory; scale-out: in the stream); beyond, 503. */
      max_pending: z.int().positive().default(100_000),
      /** Wait after a failed write (the database is down) before trying again. */
      retry_ms: z.int().positive().default(1_000),
      /** Scale-out: flush loops in this process (0: this node only appends; flushers run elsewhere). */
      flushers: z.int().min(0).max(32).default(1),
      /** Scale-out: entries pending this long in a silent flusher are taken over. */
      claim_idle_ms: z.int().positive().default(15_000),
    })
    .default({ batch_size: 500, interval_ms: 1_000, max_pending: 100_000, retry_ms: 1_000, flushers: 1, claim_idle_ms: 15_000 }),
  /** Shutdown gives the flush this long to write everything pending. */
  drain_ms: z.int().min(0).default(30_000),
});

export const apiKeySchema = z.strictObject({
  /** A name for logs and usage records (never the key itself). */
  id: name,
  /** The key's SHA-256 in hex: keys are kept hashed, so the configuration holds no secret. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256 of the key)'),
  tier: z.string().min(1).default('default'),
});

export const authSchema = z.strictObject({
  api_keys: z.array(apiKeySchema).default([]),
  /**
   * Signs anonymous session tokens; every node behind one load balancer must share it. The
   * FLOODGATE_SESSION_SECRET variable overrides it. Absent: generated once and kept beside the
   * embedded database (or per process with memory://).
   */
  session_secret: z.string().min(32).optional(),
  /** How long an anonymous session token stays valid. */
  session_ttl_s: z.int().positive().default(30 * 24 * 3600),
});

/** One tier's limits per identity; a limit left out is not enforced. */
export const tierSchema = z.strictObject({
  /** Requests per minute. */
  rpm: z.int().positive().optional(),
  /** Tokens per minute: the prompt plus max_tokens reserved at admission, reconciled with real usage. */
  tpm: z.int().positive().optional(),
  /** Requests in flight at once. */
  concurrency: z.int().positive().optional(),
  /** Requests per UTC day. */
  daily_requests: z.int().positive().optional(),
  /** Tokens per UTC day. */
  daily_tokens: z.int().positive().optional(),
  /** Served first when requests wait for upstream budget (higher first). */
  priority: z.int().min(0).max(100).default(0),
});

/** Free-tier values a fresh `npm start` applies to callers without a key, so it is safe to expose. */
export const ANONYMOUS_DEFAULTS = { rpm: 20, tpm: 40_000, concurrency: 4, daily_requests: 1_000, daily_tokens: 1_000_000, priority: 0 };
export const KEYED_DEFAULTS = { rpm: 600, tpm: 2_000_000, concurrency: 64, priority: 10 };

export const limitsSchema = z.strictObject({
  /** memory: per process; redis: shared by every node (storage.redis_url or REDIS_URL). */
  backend: z.enum(['memory', 'redis']).default('memory'),
  /** Nodes sharing the limits: while Redis is unreachable each node enforces limit / nodes. */
  nodes: z.int().positive().default(1),
  /** A Redis decision taking longer than this falls back to the per-process limits. */
  redis_timeout_ms: z.int().positive().default(100),
  /** Addresses (IPs or CIDRs) of proxies whose X-Forwarded-For / Forwarded headers are believed. */
  trusted_proxies: z.array(z.string().min(1)).default([]),
  /** The one forwarding header those proxies write; the other is ignored (a client could have sent it). */
  proxy_header: z.enum(['x-forwarded-for', 'forwarded']).default('x-forwarded-for'),
  /** Keyless IPv6 callers share one identity per prefix of this length (64: a subscriber's usual share). */
  ipv6_prefix: z.int().min(16).max(128).default(64),
  /** Limits per tier: `anonymous` for callers without a key, `default` for keys without a tier. */
  tiers: z.record(name, tierSchema).default({ anonymous: tierSchema.parse(ANONYMOUS_DEFAULTS), default: tierSchema.parse(KEYED_DEFAULTS) }),
});

/** Requests waiting for upstream budget (no deployment of their model has any left). */
export const queueSchema = z.strictObject({
  /** A request waits at most this long; one that cannot be served in time is refused at once. */
  deadline_ms: z.int().positive().default(30_000),
  /** Waiting requests per client at most, and overall. */
  max_per_client: z.int().positive().default(20),
  max_total: z.int().positive().default(2_000),
  /**
   * Deficit round robin: tokens a client's queue may send per round. About one ordinary request
   * (a short prompt and the 1,000-token output reserve), so clients take turns request by request
   * and a newcomer waits behind one request of each backlog, not several.
   */
  quantum_tokens: z.int().positive().default(1_000),
});

export const fileSchema = z.strictObject({
  server: serverSchema.default(serverSchema.parse({})),
  routing: routingSchema.default(routingSchema.parse({})),
  storage: storageSchema.default(storageSchema.parse({})),
  auth: authSchema.default(authSchema.parse({})),
  limits: limitsSchema.default(limitsSchema.parse({})),
  queue: queueSchema.default(queueSchema.parse({})),
  overload: overloadSchema.default(overloadSchema.parse({})),
  providers: z.record(name, providerSchema).default({}),
  deployments: z.record(name, deploymentSchema).default({}),
  models: z.record(name, modelSchema).default({}),
});

export type RawConfig = z.infer<typeof fileSchema>;
