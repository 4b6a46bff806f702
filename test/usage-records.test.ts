// Usage records: one per request that reached an upstream, written through the batched history
// path (no request waits for the database), with the caller, the tokens the answer reported, the
// status the client got, and the cost from the deployment's configured prices.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { testDatabase, type TestDatabase } from './support/databases.js';
import { configFrom, startStack, type Stack } from './support/stack.js';

let stack: Stack;
let database: TestDatabase;

interface UsageRecord { identity: string; model: string; deployment: string | null; prompt_tokens: number; completion_tokens: number; status: number; cost_usd: string | null; latency_ms: number }

async function recordsFor(identity: string, count: number): Promise<UsageRecord[]> {
  for (let i = 0; i < 200; i++) {
    const rows = await database.db.query<UsageRecord>('SELECT * FROM usage_records WHERE identity = $1 ORDER BY created_at, id', [identity]);
    if (rows.length >= count) return rows;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`fewer than ${count} usage records for ${identity}`);
}

before(async () => {
  database = await testDatabase('postgres');
  stack = await startStack({
    eagerStorage: true,
    config: (url) => {
      const config = configFrom({
        providers: { sim: { base_url: url } },
        deployments: {
          priced: { provider: 'sim', model: 'sim-chat', price: { input_per_million: 0.15, output_per_million: 0.6 } },
          embed: { provider: 'sim', model: 'sim-embed' },
          broken: { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': '500' } },
          stalling: { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': 'hang:3' }, price: { input_per_million: 1, output_per_million: 1 } },
        },
        models: {
          chat: { deployments: ['priced'] },
          embed: { type: 'embedding', deployments: ['embed'] },
          broken: { deployments: ['broken'] },
          stalling: { deployments: ['stalling'] },
        },
        storage: { database_url: database.url, flush: { interval_ms: 50 } },
        routing: { max_attempts: 1 },
      });
      return config;
    },
  });
});
after(async () => {
  await stack?.close();
  await database?.drop();
});

describe('usage records', () => {
  it('records each request once with its caller, tokens, status and cost', async () => {
    const session = (await (await fetch(`${stack.baseURL}/sessions`, { method: 'POST' })).json()) as { token: string };
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: session.token, maxRetries: 0 });
    const owner = `session:${session.token.slice(4, 36)}`;

    const completion = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }], max_tokens: 20 });
    const stream = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], stream: true, stream_options: { include_usage: true } });
    let streamed: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) streamed = chunk.usage ?? streamed;
    const embedding = await client.embeddings.create({ model: 'embed', input: 'some words' });
    await assert.rejects(client.chat.completions.create({ model: 'broken', messages: [{ role: 'user', content: 'x' }] }));

    const rows = await recordsFor(owner, 4);
    assert.equal(rows.length, 4);
    const [first, second, third, fourth] = rows as [UsageRecord, UsageRecord, UsageRecord, UsageRecord];
    assert.deepEqual([first.model, first.deployment, first.status], ['chat', 'priced', 200]);
    assert.deepEqual([first.prompt_tokens, first.completion_tokens], [completion.usage!.prompt_tokens, completion.usage!.completion_tokens]);
    const expected = (completion.usage!.prompt_tokens * 0.15 + completion.usage!.completion_tokens * 0.6) / 1e6;
    assert.equal(Number(first.cost_usd), Number(expected.toFixed(8)));
    assert.deepEqual([second.prompt_tokens, second.completion_tokens], [streamed!.prompt_tokens, streamed!.completion_tokens]);
    assert.deepEqual([third.model, third.prompt_tokens, third.cost_usd], ['embed', embedding.usage.prompt_tokens, null]);
    assert.deepEqual([fourth.model, fourth.status, fourth.prompt_tokens], ['broken', 502, 0]);
    assert.ok(rows.every((row) => row.latency_ms >= 0));
  });

  it('bills a stream the client cut short: the whole prompt and what was relayed', async () => {
    const session = (await (await fetch(`${stack.baseURL}/sessions`, { method: 'POST' })).json()) as { token: string };
    const owner = `session:${session.token.slice(4, 36)}`;
    const controller = new AbortController();
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: session.token, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'stalling', messages: [{ role: 'user', content: 'a long answer please' }], stream: true }, { signal: controller.signal });
    let seen = 0;
    // The SDK ends the loop quietly when its own signal aborts it.
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) seen += 1;
      if (seen >= 1 && !controller.signal.aborted) controller.abort();
    }
    assert.ok(seen >= 1);
    const [row] = await recordsFor(owner, 1);
    assert.equal(row!.deployment, 'stalling');
    assert.ok(row!.prompt_tokens > 0, 'the prompt was counted');
    assert.ok(row!.completion_tokens >= 1, 'the relayed deltas were counted');
    assert.ok(Number(row!.cost_usd) > 0);
  });

  it('records anonymous callers as anonymous', async () => {
    const before = (await database.db.query<{ n: number }>("SELECT count(*)::int AS n FROM usage_records WHERE identity = 'anonymous'"))[0]!.n;
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }] });
    const rows = await recordsFor('anonymous', before + 1);
    assert.equal(rows.length, before + 1);
  });
});
