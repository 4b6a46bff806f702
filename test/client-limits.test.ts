// Client limits through the real gateway: OpenAI's rate-limit headers, 429s that say which limit
// and when, tiers by API key, keyless callers by address (forwarding headers believed only from
// trusted proxies), token reservations settled against real usage, and the free-tier defaults.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { simulatedConfig } from '../src/config/simulated.js';
import { newApiKey } from '../src/identity/api-keys.js';
import { configFrom, startStack, type Stack } from './support/stack.js';

const key = newApiKey();
const dailyKey = newApiKey();
const botKey = newApiKey();
let stack: Stack;

function chat(body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return request(`${stack.baseURL}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 20, ...body }),
  });
}

before(async () => {
  stack = await startStack({
    keepTrafficControl: true,
    config: (url) => {
      const config = configFrom({
        providers: { sim: { base_url: url } },
        deployments: {
          d: { provider: 'sim', model: 'sim-chat' },
          slow: { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': 'slow-first-byte:1500' } },
          // Rate limited upstream for longer than the queue deadline: its 429 reaches the caller.
          saturated: { provider: 'sim', model: 'sim-chat', headers: { 'x-sim-fault': '429:45' } },
        },
        models: { chat: { deployments: ['d'] }, 'slow-chat': { deployments: ['slow'] }, 'saturated-chat': { deployments: ['saturated'] } },
        auth: { api_keys: [{ id: 'team', sha256: key.sha256, tier: 'pro' }, { id: 'daily', sha256: dailyKey.sha256, tier: 'daily' }, { id: 'bot', sha256: botKey.sha256, tier: 'bot' }] },
        limits: {
          trusted_proxies: ['10.0.0.0/8'],
          tiers: { anonymous: { rpm: 3, tpm: 100_000 }, pro: { rpm: 100, tpm: 3_000, concurrency: 1 }, daily: { daily_requests: 2 }, bot: { rpm: 2 } },
        },
      });
      config.overload.enabled = false;
      return config;
    },
  });
});
after(async () => stack?.close());

describe('client limits', () => {
  it('counts requests per minute, says so in OpenAI\'s headers, and refuses with a precise Retry-After', async () => {
    // The stack listens on 127.0.0.1: every keyless request here is one caller.
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat({}, { 'x-forwarded-for': `198.51.100.${i}` }); // untrusted peer: ignored
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-ratelimit-limit-requests'], '3');
      assert.match(String(res.headers['x-ratelimit-reset-requests']), /^\d+(\.\d+)?(ms|s)$/);
      remaining.push(String(res.headers['x-ratelimit-remaining-requests']));
      await res.body.dump();
    }
    assert.deepEqual(remaining, ['2', '1', '0']);
    const refused = await chat();
    assert.equal(refused.statusCode, 429);
    const wait = Number(refused.headers['retry-after-ms']);
    assert.ok(wait > 18_000 && wait <= 20_000, `one request refills every 20 s, retry-after-ms ${wait}`);
    assert.equal(refused.headers['retry-after'], String(Math.ceil(wait / 1000)));
    const body = (await refused.body.json()) as { error: { type: string; code: string; message: string } };
    assert.equal(body.error.code, 'rate_limit_exceeded');
    assert.match(body.error.message, /requests per minute.*limit 3.*try again in \d/);

    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    await assert.rejects(client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'x' }] }), OpenAI.RateLimitError);
    // Every route that does work is counted, the anonymous session route included.
    const session = await request(`${stack.baseURL}/sessions`, { method: 'POST' });
    assert.equal(session.statusCode, 429);
    await session.body.dump();
    const health = await request(`${stack.baseURL.replace(/\/v1$/, '')}/healthz`);
    assert.equal(health.statusCode, 200, 'health endpoints are never limited');
    await health.body.dump();
  });

  it('puts the headers on streamed answers too', async () => {
    const auth = { authorization: `Bearer ${key.key}` };
    const streamed = await chat({ stream: true, max_tokens: 5 }, auth);
    assert.equal(streamed.statusCode, 200);
    assert.match(String(streamed.headers['content-type']), /text\/event-stream/);
    assert.equal(streamed.headers['x-ratelimit-limit-requests'], '100');
    assert.ok(streamed.headers['x-ratelimit-remaining-tokens'] !== undefined);
    await streamed.body.dump();
  });

  it('gives an API key its own tier and budget, and settles token reservations against real usage', async () => {
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: key.key, maxRetries: 0 });
    // tpm 3,000: a request reserving 2,500 (prompt + max_tokens) fits once...
    const { data, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2_500 }).withResponse();
    assert.equal(response.headers.get('x-ratelimit-limit-requests'), '100');
    assert.equal(response.headers.get('x-ratelimit-limit-tokens'), '3000');
    const used = data.usage!.total_tokens;
    assert.ok(used < 2_500);
    // ...and once it is over only what it really used stays charged, so a second one fits again.
    await waitFor(async () => {
      const again = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2_500 }).withResponse().catch(() => undefined);
      return again !== undefined;
    });
  });

  it('refuses a request that could never fit its token limit with a 400, not a 429 an SDK would retry', async () => {
    const client = new OpenAI({ baseURL: stack.baseURL, apiKey: key.key, maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: 5_000 }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /more than the limit of 3000 tokens per minute/.test(e.message),
    );
  });

  it('does not count a request turned away for want of upstream capacity against the daily quota', async () => {
    const auth = { authorization: `Bearer ${dailyKey.key}` };
    const turnedAway = await chat({ model: 'saturated-chat' }, auth);
    assert.equal(turnedAway.statusCode, 429);
    assert.equal(((await turnedAway.body.json()) as { error: { code: string } }).error.code, 'upstream_rate_limited');
    await new Promise((resolve) => setTimeout(resolve, 100)); // settled once the answer is over
    const statuses: number[] = [];
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat({}, auth);
      statuses.push(res.statusCode);
      codes.push(res.statusCode === 200 ? 'ok' : ((await res.body.json()) as { error: { message: string } }).error.message);
      if (res.statusCode === 200) await res.body.dump();
    }
    assert.deepEqual(statuses, [200, 200, 429], codes.join('; '));
    assert.match(codes[2]!, /requests per day/);
  });

  it('counts a request whose body cannot be read like any other: a bot looping malformed JSON is limited too', async () => {
    const statuses: number[] = [];
    const codes: string[] = [];
    for (const body of ['{"model": "chat", "messages": [', '\u00ff\u00fe', '{"model": "chat"']) {
      const res = await request(`${stack.baseURL}/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${botKey.key}` }, body,
      });
      statuses.push(res.statusCode);
      codes.push(((await res.body.json()) as { error: { code: string } }).error.code);
    }
    assert.deepEqual(statuses, [400, 400, 429]);
    assert.deepEqual(codes, ['invalid_json', 'invalid_json', 'rate_limit_exceeded']);
  });

  it('limits requests in flight at once', async () => {
    const auth = { authorization: `Bearer ${key.key}` };
    // The first holds its slot while its upstream takes 1.5 s to answer.
    const slow = chat({ model: 'slow-chat', max_tokens: 5 }, auth);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await chat({ max_tokens: 5 }, auth);
    assert.equal(second.statusCode, 429);
    assert.match(((await second.body.json()) as { error: { message: string } }).error.message, /concurrent requests/);
    const first = await slow;
    assert.equal(first.statusCode, 200);
    await first.body.dump();
    // Its slot is free again once it is over.
    await waitFor(async () => {
      const third = await chat({ max_tokens: 5 }, auth);
      await third.body.dump();
      return third.statusCode === 200;
    });
  });
});

describe('the free tier of a fresh start', () => {
  it('limits keyless callers out of the box', () => {
    const anonymous = simulatedConfig('http://127.0.0.1:1').limits.tiers.anonymous!;
    assert.ok(anonymous.rpm && anonymous.tpm && anonymous.concurrency && anonymous.daily_requests);
  });
});

async function waitFor(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('condition not met in time');
}
