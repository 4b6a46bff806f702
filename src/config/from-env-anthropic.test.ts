// ANTHROPIC_API_KEY configures an Anthropic-kind provider with a current Claude model;
// ANTHROPIC_MODEL names others and ANTHROPIC_BASE_URL points it elsewhere (a proxy, the simulator).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromEnvironment } from './from-env.js';

test('ANTHROPIC_API_KEY gives an anthropic provider at api.anthropic.com with claude-sonnet-4-5', () => {
  const config = configFromEnvironment({ ANTHROPIC_API_KEY: 'sk-ant-1' })!;
  const provider = config.providers.get('anthropic')!;
  assert.equal(provider.kind, 'anthropic');
  assert.equal(provider.baseUrl, 'https://api.anthropic.com');
  assert.equal(provider.apiKey, 'sk-ant-1');
  const model = config.models.get('claude-sonnet-4-5')!;
  assert.deepEqual(model.deployments, ['anthropic:claude-sonnet-4-5']);
  assert.deepEqual(model.card.architecture.input_modalities, ['text', 'image']);
  assert.deepEqual(config.origin, { kind: 'environment', variables: ['ANTHROPIC_API_KEY'] });
});

test('ANTHROPIC_MODEL and ANTHROPIC_BASE_URL override the defaults; no key, no provider', () => {
  const config = configFromEnvironment({ ANTHROPIC_API_KEY: 'sk-ant-1', ANTHROPIC_MODEL: 'claude-haiku-4-5, claude-opus-4-1', ANTHROPIC_BASE_URL: 'http://127.0.0.1:8787/' })!;
  assert.equal(config.providers.get('anthropic')!.baseUrl, 'http://127.0.0.1:8787');
  assert.ok(config.models.has('claude-haiku-4-5') && config.models.has('claude-opus-4-1'));
  assert.ok(!config.models.has('claude-sonnet-4-5'));
  assert.equal(configFromEnvironment({ ANTHROPIC_MODEL: 'claude-haiku-4-5' }), null);
});
