// API keys from the configuration, kept only as SHA-256 hashes: the configuration (and a leaked
// copy of it) holds no usable secret, and a key is never logged, only its configured id.
import { createHash, randomBytes } from 'node:crypto';

export interface ApiKeyEntry {
  id: string;
  sha256: string;
  tier: string;
}

export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** A fresh key (`fg-` + 48 base64url characters) and the line to put in the configuration. */
export function newApiKey(): { key: string; sha256: string } {
  const key = `fg-${randomBytes(36).toString('base64url')}`;
  return { key, sha256: hashApiKey(key) };
}

export class ApiKeys {
  private readonly byHash = new Map<string, ApiKeyEntry>();

  constructor(entries: readonly ApiKeyEntry[]) {
    for (const entry of entries) this.byHash.set(entry.sha256, entry);
  }

  get size(): number {
    return this.byHash.size;
  }

  /** The entry for a presented key, if it is one of ours. */
  find(key: string): ApiKeyEntry | undefined {
    // Hashing first makes the lookup's timing independent of how much of a real key was guessed.
    return this.byHash.size === 0 ? undefined : this.byHash.get(hashApiKey(key));
  }
}
