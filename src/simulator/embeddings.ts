// Deterministic simulated embeddings. Each vector is the normalised sum of one pseudo-random
// vector per lower-cased word, so texts that share words have a high cosine similarity: enough
// to exercise a semantic cache without a real model.
import { createRng, hashString } from './rng.js';

const WORD_VECTOR_CACHE_LIMIT = 8192;
const wordVectors = new Map<string, Float64Array>();

function wordVector(word: string, dimensions: number): Float64Array {
  const key = `${dimensions}:${word}`;
  const cached = wordVectors.get(key);
  if (cached) return cached;
  const rng = createRng(hashString(word));
  const vector = new Float64Array(dimensions);
  // The sum of three uniforms is close enough to a Gaussian to spread directions evenly.
  for (let i = 0; i < dimensions; i++) vector[i] = rng.next() + rng.next() + rng.next() - 1.5;
  if (wordVectors.size >= WORD_VECTOR_CACHE_LIMIT) wordVectors.clear();
  wordVectors.set(key, vector);
  return vector;
}

function normalise(vector: Float64Array, length: number): number[] {
  let norm = 0;
  for (let i = 0; i < length; i++) norm += vector[i]! * vector[i]!;
  norm = Math.sqrt(norm) || 1;
  const out = new Array<number>(length);
  // Rounded to float32, the precision OpenAI serves, so float and base64 answers agree exactly.
  for (let i = 0; i < length; i++) out[i] = Math.fround(vector[i]! / norm);
  return out;
}

/**
 * The embedding of `text` in `fullDimensions`, truncated to `dimensions` and re-normalised (the
 * way text-embedding-3 models shorten vectors).
 */
export function embedText(text: string, fullDimensions: number, dimensions = fullDimensions): number[] {
  const sum = new Float64Array(fullDimensions);
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [text];
  for (const word of words) {
    const vector = wordVector(word, fullDimensions);
    for (let i = 0; i < fullDimensions; i++) sum[i]! += vector[i]!;
  }
  return normalise(sum, dimensions);
}

/** OpenAI's base64 encoding: the little-endian float32 bytes of the vector. */
export function toBase64(vector: readonly number[]): string {
  const bytes = Buffer.allocUnsafe(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}
