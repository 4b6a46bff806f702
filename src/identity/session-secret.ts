// The secret that signs session tokens. Every node behind one load balancer must share it, or a
// token issued by one node is refused by the next; so scale-out mode requires it to be configured.
// The embedded default generates one on first start and keeps it beside the database, so tokens
// survive restarts (with an in-memory database, nothing survives anyway: a per-process secret).
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
  const existing = readSecret(file);
  if (existing !== undefined) return existing;
  mkdirSync(dirname(file), { recursive: true });
  // Written whole under a temporary name, then linked into place: the link fails if another
  // process got there first (the loser reads the winner's), and nobody ever reads a half-written
  // or empty file, which would make every token forgeable.
  const secret = randomBytes(32).toString('base64url');
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, `${secret}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, file);
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readSecret(file) ?? refuse(file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** The kept secret; undefined when there is none yet. A short one is refused, never used. */
function readSecret(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return text.length >= 32 ? text : refuse(file);
}

function refuse(file: string): never {
  throw new ConfigError([`${file}: the kept session secret is shorter than 32 characters; delete the file to make a new one (existing session tokens stop working) or set FLOODGATE_SESSION_SECRET`]);
}
