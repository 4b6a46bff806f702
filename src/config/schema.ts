// Step one of configuration: the strict shape of the raw YAML file. Unknown keys are errors so a
// typo never silently does nothing. Cross-references (a deployment naming a provider) are checked
// in resolve.ts, whose errors name the path too.
import { z } from 'zod';

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
  limits: z
    .strictObject({
      rpm: z.int().positive().optional(),
      tpm: z.int().positive().optional(),
      max_concurrency: z.int().positive().optional(),
    })
    .default({}),
});

const modality = z.enum(['text', 'image', 'audio', 'file']);

export const modelSchema = z.strictObject({
  type: z.enum(['chat', 'embedding']).default('chat'),
  deployments: z.array(name).min(1),
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

export const fileSchema = z.strictObject({
  server: serverSchema.default(serverSchema.parse({})),
  providers: z.record(name, providerSchema).default({}),
  deployments: z.record(name, deploymentSchema).default({}),
  models: z.record(name, modelSchema).default({}),
});

export type RawConfig = z.infer<typeof fileSchema>;
