import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { storageSchema, authSchema } from '../config/schema.js';
import { ConfigError } from '../config/config.js';
import { resolveSessionSecret } from './session-secret.js';

const auth = authSchema.parse({});

test('the embedded secret is made once, kept beside the database, and reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-secret-'));
  const storage = storageSchema.parse({ data_dir: join(dir, 'pglite') });
  const first = resolveSessionSecret(auth, storage, {});
  assert.ok(first.length >= 32);
  assert.equal(resolveSessionSecret(auth, storage, {}), first);
  assert.equal(readFileSync(join(dir, 'session-secret'), 'utf8').trim(), first);
});

test('an empty or short kept secret is refused, never used to sign', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fg-secret-'));
  writeFileSync(join(dir, 'session-secret'), '');
  const storage = storageSchema.parse({ data_dir: join(dir, 'pglite') });
  assert.throws(() => resolveSessionSecret(auth, storage, {}), ConfigError);
});

test('scale-out needs a configured secret; a configured one must be long enough', () => {
  const storage = storageSchema.parse({ redis_url: 'redis://127.0.0.1:6379' });
  assert.throws(() => resolveSessionSecret(auth, storage, {}), /required in scale-out mode/);
  assert.throws(() => resolveSessionSecret(auth, storage, { FLOODGATE_SESSION_SECRET: 'short' }), ConfigError);
  assert.equal(resolveSessionSecret(auth, storage, { FLOODGATE_SESSION_SECRET: 'x'.repeat(32) }), 'x'.repeat(32));
});
