import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError } from './config.js';
import { loadConfigFile, parseConfigText, validateRaw } from './load.js';
import { configFromEnvironment } from './from-env.js';
import { resolveConfig } from './config.js';

const GOOD = `
providers:
  openai:
    base_url: https://api.openai.com/v1
    api_key: \${OPENAI_KEY}
    headers: { OpenAI-Organization: "\${ORG:-org-default}" }
deployments:
  gpt-a:
    provider: openai
    model: gpt-4o-mini
    weight: 2
models:
  chat:
    deployments: [gpt-a]
    context_length: 128000
    input_modalities: [text, image]
`;

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems;
  }
  assert.fail('expected a ConfigError');
}

test('a good file resolves, with ${ENV} and ${ENV:-default} substituted', () => {
  const raw = parseConfigText(GOOD, { OPENAI_KEY: 'sk-test' });
  const config = resolveConfig(raw, { kind: 'file', path: 'x' });
  const provider = config.providers.get('openai')!;
  assert.equal(provider.apiKey, 'sk-test');
  assert.equal(provider.headers['OpenAI-Organization'], 'org-default');
  assert.equal(config.deployments.get('gpt-a')!.weight, 2);
  const card = config.models.get('chat')!.card;
  assert.deepEqual(card.architecture, { input_modalities: ['text', 'image'], output_modalities: ['text'] });
  assert.ok(card.supported_parameters.includes('tools'));
  assert.equal(config.server.port, 8080);
  assert.equal(config.server.host, '127.0.0.1');
  assert.ok(config.server.body_limit_bytes <= 32 * 1024 * 1024);
});

test('a missing variable names the path that uses it', () => {
  assert.deepEqual(problems(() => parseConfigText(GOOD, {})), ['providers.openai.api_key: environment variable OPENAI_KEY is not set']);
});

test('a variable cannot inject YAML structure', () => {
  const raw = parseConfigText(GOOD, { OPENAI_KEY: 'x\nmodels: {}' });
  assert.equal(raw.providers.openai!.api_key, 'x\nmodels: {}');
});

test('unknown keys, wrong types and bad values are errors naming their path', () => {
  const text = GOOD.replace('weight: 2', 'weight: -1\n    wieght: 3').replace('context_length: 128000', 'context_length: lots');
  const found = problems(() => parseConfigText(text, { OPENAI_KEY: 'k' }));
  assert.ok(found.some((p) => p.startsWith('deployments.gpt-a.weight:')), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('deployments.gpt-a:') && p.includes('wieght')), found.join('\n'));
  assert.ok(found.some((p) => p.startsWith('models.chat.context_length:')), found.join('\n'));
});

test('cross-references are checked: unknown provider, unknown deployment', () => {
  const text = GOOD.replace('provider: openai', 'provider: opneai').replace('deployments: [gpt-a]', 'deployments: [gpt-a, gpt-b]');
  const found = problems(() => resolveConfig(parseConfigText(text, { OPENAI_KEY: 'k' }), { kind: 'file', path: 'x' }));
  assert.ok(found.includes('deployments.gpt-a.provider: unknown provider "opneai" (known: openai)'), found.join('\n'));
  assert.ok(found.includes('models.chat.deployments[1]: unknown deployment "gpt-b" (known: gpt-a)'), found.join('\n'));
});

test('YAML syntax errors and unreadable files are ConfigErrors', () => {
  assert.ok(problems(() => parseConfigText('models: [unclosed', {})).length > 0);
  assert.match(problems(() => loadConfigFile('/nonexistent/floodgate.yaml'))[0]!, /cannot read the file \(ENOENT\)/);
});

test('the environment configures providers; nothing set means null (the simulator takes over)', () => {
  assert.equal(configFromEnvironment({}), null);
  const config = configFromEnvironment({ OPENAI_API_KEY: 'sk-1', OLLAMA_BASE_URL: 'http://localhost:11434', OLLAMA_MODEL: 'qwen2.5' })!;
  assert.deepEqual(config.origin, { kind: 'environment', variables: ['OPENAI_API_KEY', 'OLLAMA_BASE_URL'] });
  assert.equal(config.providers.get('openai')!.apiKey, 'sk-1');
  assert.equal(config.providers.get('ollama')!.baseUrl, 'http://localhost:11434/v1');
  assert.ok(config.models.has('gpt-4o-mini') && config.models.has('qwen2.5') && config.models.has('text-embedding-3-small'));
  assert.equal(config.models.get('text-embedding-3-small')!.type, 'embedding');
});

test('the CLI exits non-zero with a readable message on a bad file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-config-'));
  const path = join(dir, 'bad.yaml');
  writeFileSync(path, 'providers:\n  x:\n    base_url: not a url\nmodels: {}\n');
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', path], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /invalid configuration/);
  assert.match(run.stderr, /providers\.x\.base_url:/);
  assert.ok(!run.stderr.includes('    at '), 'no stack trace');
});

test('self-hosted servers are configured by URL alone, and must name their models', () => {
  const config = configFromEnvironment({ VLLM_BASE_URL: 'http://gpu-box:8000', VLLM_MODEL: 'Qwen/Qwen2.5-7B-Instruct' })!;
  assert.equal(config.providers.get('vllm')!.baseUrl, 'http://gpu-box:8000/v1');
  assert.equal(config.providers.get('vllm')!.apiKey, undefined);
  assert.ok(config.models.has('Qwen/Qwen2.5-7B-Instruct'));
  assert.match(problems(() => configFromEnvironment({ VLLM_BASE_URL: 'http://gpu-box:8000' }))[0]!, /VLLM_BASE_URL: set VLLM_MODEL/);
});

test('the CLI exits 2 with usage on an unknown option or an empty port', () => {
  for (const args of [['serve', '--prot', '80'], ['serve', '--port', '']]) {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /Usage:/);
    assert.ok(!run.stderr.includes('    at '), 'no stack trace');
  }
});

test('routing: fallbacks and reroute targets must name other models of the same type; strategies are checked', () => {
  const raw = {
    providers: { p: { base_url: 'http://127.0.0.1:1' } },
    deployments: { d: { provider: 'p', model: 'm' } },
    models: {
      chat: { deployments: ['d'], fallbacks: ['nope', 'chat'], content_policy_fallbacks: ['emb'], reroute: { vision: 'emb' } },
      emb: { type: 'embedding', deployments: ['d'] },
    },
  };
  const found = problems(() => resolveConfig(validateRaw(raw), { kind: 'file', path: 'x' }));
  assert.ok(found.includes('models.chat.fallbacks[0]: unknown model "nope" (known: chat, emb)'), found.join('\n'));
  assert.ok(found.includes('models.chat.fallbacks[1]: a model cannot be its own fallback or reroute target'), found.join('\n'));
  assert.ok(found.includes('models.chat.content_policy_fallbacks[0]: "emb" is an embedding model'), found.join('\n'));
  assert.ok(found.includes('models.chat.reroute.vision: "emb" is an embedding model'), found.join('\n'));

  const strategy = problems(() => validateRaw({ ...raw, models: { chat: { deployments: ['d'], strategy: 'fastest', reroute: { sight: 'x' } } } }));
  assert.ok(strategy.some((p) => p.startsWith('models.chat.strategy:')), strategy.join('\n'));
  assert.ok(strategy.some((p) => p.startsWith('models.chat.reroute')), strategy.join('\n'));
});

test('routing defaults: 3 attempts, a 20% retry budget, breakers, 10-minute total timeout, auto reroute', () => {
  const config = resolveConfig(validateRaw({ providers: { p: { base_url: 'http://x' } }, deployments: { d: { provider: 'p', model: 'm' } }, models: { m: { deployments: ['d'] } } }), { kind: 'file', path: 'x' });
  assert.equal(config.routing.max_attempts, 3);
  assert.equal(config.routing.retry_budget.ratio, 0.2);
  assert.equal(config.routing.breaker.consecutive_failures, 5);
  assert.equal(config.routing.total_timeout_ms, 600_000);
  assert.equal(config.models.get('m')!.reroute, 'auto');
  assert.equal(config.models.get('m')!.strategy, 'weighted');
});
