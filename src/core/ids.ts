// Random ids in OpenAI's form (a type prefix and 48 hex characters: resp_67cc…c1d41). They are
// made by the thousand per second on the ingest path, and one randomBytes() call per id showed as
// 8 % of the gateway's CPU there: the bytes are drawn from a pool refilled 8 KB at a time from the
// same CSPRNG, so ids stay unguessable at a fraction of the cost.
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 8192;
const pool = Buffer.allocUnsafe(POOL_BYTES);
let used = POOL_BYTES;

/** `bytes` random bytes as lowercase hex. */
export function randomHex(bytes: number): string {
  if (bytes > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} random bytes at a time`);
  if (used + bytes > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString('hex', used, used + bytes);
  used += bytes;
  return hex;
}

/** `<prefix>_` and 48 random hex characters. */
export const prefixedId = (prefix: string): string => `${prefix}_${randomHex(24)}`;
