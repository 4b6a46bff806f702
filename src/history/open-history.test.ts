// The factory: embedded over PGlite when no Redis is configured (its directory created, the schema
// migrated), scale-out when one is; and a Redis that stops answering makes requests fail fast
// with 503 history_unavailable and Retry-After, then recover, instead of hanging.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayError } from '../core/errors.js';
import { storageSchema } from '../config/schema.js';
import { dropRedisKeys, eventually, postgresSchemaUrl, REDIS_URL, silentLogger, testStreamKey } from '../../test/support/history-backends.js';
import { redisProxy } from '../../test/support/redis-proxy.js';
import { openHistory } from './open-history.js';

let schema: Awaited<ReturnType<typeof postgresSchemaUrl>>;
const keys: string[] = [];
before(async () => {
  schema = await postgresSchemaUrl();
});
after(async () => {
  await Promise.all(keys.map((prefix) => dropRedisKeys(prefix)));
  await schema.drop();
});

const turn = { type: 'message', body: { text: 'hello' } };

test('no redis_url: embedded over PGlite in data_dir, created and migrated', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-history-'));
  try {
    const dataDir = join(dir, 'nested', 'pglite');
    const history = await openHistory(storageSchema.parse({ data_dir: dataDir }), silentLogger, {});
    try {
      assert.equal(history.mode, 'embedded');
      assert.ok(existsSync(dataDir));
      const { conversation } = await history.createConversation('alice', {}, [turn]);
      assert.equal((await history.listItems('alice', conversation.id, { limit: 10, order: 'asc' }))!.data.length, 1);
      assert.equal(await history.drain(10_000), true);
    } finally {
      await history.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('redis_url (or REDIS_URL) set: scale-out over PostgreSQL', async () => {
  const key = testStreamKey();
  keys.push(key);
  const storage = storageSchema.parse({ database_url: schema.url, stream_key: key, flush: { flushers: 1, interval_ms: 20 } });
  const history = await openHistory(storage, silentLogger, { REDIS_URL });
  try {
    assert.equal(history.mode, 'scale-out');
    const { conversation } = await history.createConversation('alice', {}, [turn]);
    assert.equal((await history.getConversation('alice', conversation.id))?.id, conversation.id);
    await eventually('flushed by its own flusher', () => history.stats().written === 2);
  } finally {
    await history.close();
  }
});

test('a Redis that stops answering: requests fail fast with 503 history_unavailable, and work again once it answers', async () => {
  const key = testStreamKey();
  keys.push(key);
  const proxy = await redisProxy(Number(new URL(REDIS_URL).port || 6379), new URL(REDIS_URL).hostname);
  const storage = storageSchema.parse({ database_url: schema.url, redis_url: proxy.url, stream_key: key, flush: { flushers: 0, retry_ms: 2_000 } });
  const history = await openHistory(storage, silentLogger, {}, { redisTimeouts: { connectMs: 1_000, commandMs: 300 } });
  try {
    const { conversation } = await history.createConversation('alice', {}, [turn]);
    proxy.freeze();
    const unavailable = (error: unknown) => {
      assert.ok(error instanceof GatewayError, String(error));
      assert.equal(error.status, 503);
      assert.equal(error.code, 'history_unavailable');
      assert.equal(error.retryable, true);
      assert.equal(error.retryAfterSeconds, 2);
      return true;
    };
    await assert.rejects(history.appendItems('alice', conversation.id, [turn]), unavailable);
    await assert.rejects(history.getConversation('alice', conversation.id), unavailable);
    await assert.rejects(history.createConversation('alice', {}, []), unavailable);
    proxy.thaw();
    await eventually('appends work again', async () => (await history.appendItems('alice', conversation.id, [turn]).catch(() => undefined)) !== undefined);
  } finally {
    proxy.thaw();
    await history.close();
    await proxy.close();
  }
});
