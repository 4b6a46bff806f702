// Small deterministic randomness: the simulator must give identical answers for identical
// (request, seed) pairs, and must be cheap enough to run per request at >20k req/s.

export interface Rng {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** A splitmix32-style generator: 32-bit state, good enough spread for picking words. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    z ^= z >>> 15;
    return (z >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
  };
}

/** FNV-1a over a string, folded into an existing hash so several fields can be mixed. */
export function hashString(text: string, hash = 0x811c9dc5): number {
  let h = hash >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

export function randomString(length: number, alphabet = ALNUM, rng?: Rng): string {
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = rng ? rng.next() : Math.random();
    out += alphabet[Math.floor(r * alphabet.length)];
  }
  return out;
}

export function randomAlnum(length: number, rng?: Rng): string {
  return randomString(length, ALNUM, rng);
}

export function randomHex(length: number): string {
  return randomString(length, HEX);
}
