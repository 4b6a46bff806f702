// With no config file, Floodgate configures itself from well-known provider variables. Every
// OpenAI-compatible service is just a base URL, a key and model names, so this table is the whole job.
import type { Config } from './config.js';
import { ConfigError, resolveConfig } from './config.js';
import { validateRaw } from './load.js';

type Env = Record<string, string | undefined>;

interface KnownProvider {
  name: string;
  /** The wire format when it is not OpenAI's. */
  kind?: 'gemini' | 'anthropic';
  keyVar?: string;
  urlVar?: string;
  defaultUrl?: string;
  modelVar: string;
  models: Array<{ id: string; type?: 'chat' | 'embedding'; context_length: number; input_modalities?: Array<'text' | 'image'> }>;
}

const KNOWN: KnownProvider[] = [
  { name: 'openai', keyVar: 'OPENAI_API_KEY', urlVar: 'OPENAI_BASE_URL', defaultUrl: 'https://api.openai.com/v1', modelVar: 'OPENAI_MODEL', models: [
    { id: 'gpt-4o-mini', context_length: 128_000, input_modalities: ['text', 'image'] },
    { id: 'gpt-4o', context_length: 128_000, input_modalities: ['text', 'image'] },
    { id: 'text-embedding-3-small', type: 'embedding', context_length: 8191 },
  ] },
  { name: 'mistral', keyVar: 'MISTRAL_API_KEY', defaultUrl: 'https://api.mistral.ai/v1', modelVar: 'MISTRAL_MODEL', models: [
    { id: 'mistral-small-latest', context_length: 32_000, input_modalities: ['text', 'image'] },
    { id: 'mistral-embed', type: 'embedding', context_length: 8192 },
  ] },
  { name: 'groq', keyVar: 'GROQ_API_KEY', defaultUrl: 'https://api.groq.com/openai/v1', modelVar: 'GROQ_MODEL', models: [
    { id: 'llama-3.1-8b-instant', context_length: 131_072 },
  ] },
  { name: 'deepseek', keyVar: 'DEEPSEEK_API_KEY', defaultUrl: 'https://api.deepseek.com/v1', modelVar: 'DEEPSEEK_MODEL', models: [
    { id: 'deepseek-chat', context_length: 65_536 },
  ] },
  { name: 'together', keyVar: 'TOGETHER_API_KEY', defaultUrl: 'https://api.together.xyz/v1', modelVar: 'TOGETHER_MODEL', models: [
    { id: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', context_length: 131_072 },
  ] },
  { name: 'openrouter', keyVar: 'OPENROUTER_API_KEY', defaultUrl: 'https://openrouter.ai/api/v1', modelVar: 'OPENROUTER_MODEL', models: [
    { id: 'openrouter/auto', context_length: 128_000, input_modalities: ['text', 'image'] },
  ] },
  // claude-sonnet-4-5 is Anthropic's alias for the current Sonnet 4.5 snapshot.
  { name: 'anthropic', kind: 'anthropic', keyVar: 'ANTHROPIC_API_KEY', urlVar: 'ANTHROPIC_BASE_URL', defaultUrl: 'https://api.anthropic.com', modelVar: 'ANTHROPIC_MODEL', models: [
    { id: 'claude-sonnet-4-5', context_length: 200_000, input_modalities: ['text', 'image'] },
  ] },
  // gemini-flash-latest is Google's alias for the current Flash model, so the default does not age.
  { name: 'gemini', kind: 'gemini', keyVar: 'GEMINI_API_KEY', urlVar: 'GEMINI_BASE_URL', defaultUrl: 'https://generativelanguage.googleapis.com', modelVar: 'GEMINI_MODEL', models: [
    { id: 'gemini-flash-latest', context_length: 1_048_576, input_modalities: ['text', 'image'] },
    { id: 'gemini-embedding-001', type: 'embedding', context_length: 2048 },
  ] },
  { name: 'ollama', urlVar: 'OLLAMA_BASE_URL', modelVar: 'OLLAMA_MODEL', models: [{ id: 'llama3.2', context_length: 131_072 }] },
  { name: 'vllm', keyVar: 'VLLM_API_KEY', urlVar: 'VLLM_BASE_URL', modelVar: 'VLLM_MODEL', models: [] },
  { name: 'llamacpp', urlVar: 'LLAMACPP_BASE_URL', modelVar: 'LLAMACPP_MODEL', models: [{ id: 'default', context_length: 8192 }] },
  { name: 'lmstudio', urlVar: 'LMSTUDIO_BASE_URL', modelVar: 'LMSTUDIO_MODEL', models: [] },
];

/** The variables that configure providers, for the start-up banner and the README. */
export const PROVIDER_VARIABLES = KNOWN.flatMap((p) => [p.keyVar, p.urlVar].filter((v): v is string => v !== undefined));

/** Returns null when no provider variable is set (the caller then starts the simulator). */
export function configFromEnvironment(env: Env): Config | null {
  const providers: Record<string, unknown> = {};
  const deployments: Record<string, unknown> = {};
  const models: Record<string, unknown> = {};
  const used: string[] = [];

  for (const known of KNOWN) {
    const key = known.keyVar ? env[known.keyVar] : undefined;
    const url = (known.urlVar ? env[known.urlVar] : undefined) ?? known.defaultUrl;
    // Hosted services are switched on by their key; self-hosted servers by their URL (a key is optional).
    const configured = known.defaultUrl !== undefined ? Boolean(key) : Boolean(known.urlVar && env[known.urlVar]);
    if (!configured || !url) continue;
    used.push(...[known.keyVar, known.urlVar].filter((v): v is string => Boolean(v && env[v])));
    providers[known.name] = { ...(known.kind ? { kind: known.kind } : {}), base_url: withV1(url, known.name), ...(key ? { api_key: key } : {}) };

    // A variable such as OLLAMA_MODEL=qwen2.5,llama3.2 names the models to offer instead of the defaults.
    const named = env[known.modelVar]?.split(',').map((s) => s.trim()).filter(Boolean);
    const offered = named && named.length > 0 ? named.map((id) => ({ id, context_length: 8192 })) : known.models;
    if (offered.length === 0) {
      throw new ConfigError([`${known.urlVar ?? known.keyVar}: set ${known.modelVar} to the name(s) of the model(s) this server serves, comma-separated`]);
    }
    for (const model of offered) {
      const publicName = models[model.id] ? `${known.name}/${model.id}` : model.id;
      const deployment = `${known.name}:${model.id}`;
      deployments[deployment] = { provider: known.name, model: model.id };
      models[publicName] = {
        type: 'type' in model ? model.type ?? 'chat' : 'chat',
        deployments: [deployment],
        owned_by: known.name,
        context_length: model.context_length,
        input_modalities: 'input_modalities' in model ? model.input_modalities ?? ['text'] : ['text'],
      };
    }
  }
  if (used.length === 0 || Object.keys(models).length === 0) return null;
  return resolveConfig(validateRaw({ providers, deployments, models }), { kind: 'environment', variables: used });
}

// Ollama, llama.cpp and LM Studio are often given as a bare host; their OpenAI API lives under /v1.
function withV1(url: string, provider: string): string {
  const trimmed = url.replace(/\/+$/, '');
  if (['ollama', 'llamacpp', 'lmstudio', 'vllm'].includes(provider) && !trimmed.endsWith('/v1')) return `${trimmed}/v1`;
  return trimmed;
}
