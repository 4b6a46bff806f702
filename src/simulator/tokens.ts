// Token arithmetic over gpt-tokenizer (o200k_base, the GPT-4o family encoding). Counts of repeated
// strings (system prompts, tool definitions, benchmark prompts) are cached because BPE encoding is
// the most expensive thing the simulator does per request.
import { decodeGenerator, encode } from 'gpt-tokenizer';

const CACHE_LIMIT = 4096;
/** Long strings are not cached: keeping them alive would cost more memory than re-encoding saves. */
const CACHEABLE_LENGTH = 16_384;
const countCache = new Map<string, number>();

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const cached = countCache.get(text);
  if (cached !== undefined) return cached;
  const count = encode(text).length;
  if (text.length <= CACHEABLE_LENGTH) {
    // Clearing wholesale is cruder than LRU but costs nothing on the hit path.
    if (countCache.size >= CACHE_LIMIT) countCache.clear();
    countCache.set(text, count);
  }
  return count;
}

const piecesCache = new Map<string, readonly string[]>();

/**
 * Splits text into the strings its tokens decode to, one per token, so that streaming one piece
 * per chunk sends exactly `countTokens(text)` chunks. A token that ends inside a multi-byte
 * character yields nothing on its own; it is merged with the next so every piece is valid text
 * (the piece count can then be below the token count, only for non-ASCII text).
 */
export function tokenPieces(text: string): readonly string[] {
  const cached = piecesCache.get(text);
  if (cached !== undefined) return cached;
  const pieces: string[] = [];
  for (const piece of decodeGenerator(encode(text))) {
    if (piece.length > 0) pieces.push(piece);
  }
  if (text.length <= CACHEABLE_LENGTH) {
    if (piecesCache.size >= CACHE_LIMIT) piecesCache.clear();
    piecesCache.set(text, pieces);
  }
  return pieces;
}
