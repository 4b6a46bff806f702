// The secret that signs session tokens. Every node behind one load balancer must share it, or a
// token issued by one node is refused by the next; so scale-out mode requires it to be configured.
// The embedded default generates one on first start and keeps it beside the database, so tokens
// survive restarts (with an in-memory database, nothing survives anyway: a per-process secret).
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError, type AuthConfig, type StorageConfig } from '../config/config.js';

export function resolveSessionSecret(auth: AuthConfig, storage: StorageConfig, env: NodeJS.ProcessEnv = process.env): string {
  const given = env.FLOODGATE_SESSION_SECRET || auth.session_secret;
  if (given) {
    if (given.length < 32) throw new ConfigError(['FLOODGATE_SESSION_SECRET: must be at least 32 characters']);
    return given;
  }
  if (env.REDIS_URL || storage.redis_url) {
    throw new ConfigError([
      'auth.session_secret: required in scale-out mode (redis_url is set), since every node must verify the session tokens the others issue; set it or FLOODGATE_SESSION_SECRET to the same 32+ character value on every node',
    ]);
  }
  if (storage.data_dir.startsWith('memory://')) return randomBytes(32).toString('base64url');
  const file = join(dirname(storage.data_dir), 'session-secret');
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(32).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  // wx: two processes starting at once must not overwrite each other's secret; the loser reads it.
  try {
    writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw error;
  }
}
