// GEMINI_API_KEY configures a Gemini provider from the environment, and that configuration
// really serves: a gateway built from it answers through the simulator's Gemini front end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack } from '../../test/support/stack.js';
import { configFromEnvironment } from './from-env.js';

test('GEMINI_API_KEY adds a gemini-kind provider with the current Flash alias and an embedding model', () => {
  const config = configFromEnvironment({ GEMINI_API_KEY: 'AIza-test' })!;
  const provider = config.providers.get('gemini')!;
  assert.equal(provider.kind, 'gemini');
  assert.equal(provider.baseUrl, 'https://generativelanguage.googleapis.com');
  assert.equal(provider.apiKey, 'AIza-test');
  assert.deepEqual(config.origin, { kind: 'environment', variables: ['GEMINI_API_KEY'] });
  const chat = config.models.get('gemini-flash-latest')!;
  assert.equal(chat.type, 'chat');
  assert.deepEqual(chat.card.architecture.input_modalities, ['text', 'image']);
  assert.equal(config.models.get('gemini-embedding-001')!.type, 'embedding');
});

test('GEMINI_BASE_URL and GEMINI_MODEL point it elsewhere, and the result serves requests', async () => {
  const key = 'AIza-env-test';
  const stack = await startStack({
    simulatorApiKey: key,
    config: (url) => configFromEnvironment({ GEMINI_API_KEY: key, GEMINI_BASE_URL: url.replace(/\/v1$/, ''), GEMINI_MODEL: 'sim-chat' })!,
  });
  try {
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'sim-chat', messages: [{ role: 'user', content: 'Hi' }] });
    assert.ok(completion.choices[0]!.message.content!.length > 0);
  } finally {
    await stack.close();
  }
});
