// The Anthropic adapter against the simulator, without the gateway around it: URL handling, the
// configurable max_tokens default, headers, and a 400 from translation naming the deployment.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { CancelSignal } from '../../core/cancel.js';
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionRequest } from '../../core/openai-types.js';
import { startSimulator, type RunningSimulator } from '../../simulator/index.js';
import type { ProviderKind, ProviderSettings } from '../types.js';
import { anthropic, createAnthropicKind, messagesPath } from './adapter.js';

let sim: RunningSimulator;
const transport = new Agent();

before(async () => {
  sim = await startSimulator({ pacing: 'instant', apiKey: 'sk-ant-adapter-test' });
});
after(async () => {
  await transport.close();
  await sim.close();
});

function provider(overrides: Partial<ProviderSettings> = {}): ProviderSettings {
  return {
    name: 'claude', kind: 'anthropic', baseUrl: sim.url, apiKey: 'sk-ant-adapter-test', headers: {},
    timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 }, maxConnections: 4, ...overrides,
  };
}

async function complete(kind: ProviderKind, settings: ProviderSettings, request: Partial<ChatCompletionRequest>, headers: Record<string, string> = {}) {
  const model = kind.create(settings, { name: 'dep-x', upstreamModel: 'sim-chat', headers }, transport);
  const outcome = await model.chat({ model: 'public', messages: [{ role: 'user', content: 'Hi' }], ...request }, { signal: new CancelSignal(), requestId: 'r1' });
  assert.equal(outcome.kind, 'completion');
  if (outcome.kind !== 'completion') throw new Error('unreachable');
  return outcome.completion;
}

test('the messages path: a bare host, a /v1 base and a prefix all work', () => {
  assert.equal(messagesPath('https://api.anthropic.com'), '/v1/messages');
  assert.equal(messagesPath('https://api.anthropic.com/'), '/v1/messages');
  assert.equal(messagesPath('https://api.anthropic.com/v1'), '/v1/messages');
  assert.equal(messagesPath('https://proxy.example/anthropic/v1/'), '/anthropic/v1/messages');
  assert.equal(messagesPath('https://proxy.example/anthropic'), '/anthropic/v1/messages');
});

test('without max_tokens the configured default is sent (Anthropic requires one)', async () => {
  const completion = await complete(createAnthropicKind({ defaultMaxTokens: 7 }), provider(), {}, { 'x-sim-tokens': '40' });
  assert.equal(completion.usage!.completion_tokens, 7);
  assert.equal(completion.choices[0]!.finish_reason, 'length');
  const caller = await complete(createAnthropicKind({ defaultMaxTokens: 7 }), provider(), { max_tokens: 9 }, { 'x-sim-tokens': '40' });
  assert.equal(caller.usage!.completion_tokens, 9);
});

test('x-api-key carries the key; provider headers may pin another anthropic-version', async () => {
  const pinned = await complete(anthropic, provider({ headers: { 'anthropic-version': '2023-01-01' } }), {});
  assert.ok(pinned.choices[0]!.message.content!.length > 0);
  await assert.rejects(complete(anthropic, provider({ headers: { 'anthropic-version': '1999-01-01' } }), {}), (e: unknown) => e instanceof GatewayError && e.status === 400 && /anthropic-version/.test(e.message));
  await assert.rejects(complete(anthropic, provider({ apiKey: undefined }), {}), (e: unknown) => e instanceof GatewayError && e.code === 'upstream_auth_failed');
});

test('a request Anthropic cannot express is a 400 naming the parameter and the deployment', async () => {
  await assert.rejects(complete(anthropic, provider(), { n: 3 }), (e: unknown) => e instanceof GatewayError && e.status === 400 && e.param === 'n' && e.deployment === 'dep-x');
});
