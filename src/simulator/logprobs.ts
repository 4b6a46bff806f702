// Plausible log-probabilities for generated pieces: deterministic per token text, always <= 0,
// with the chosen token first among its alternatives as a real sampler at low temperature shows.
import { hashString } from './rng.js';

export interface TopLogprob {
  token: string;
  logprob: number;
  bytes: number[];
}

export interface TokenLogprob extends TopLogprob {
  top_logprobs: TopLogprob[];
}

const ALTERNATIVES = [' the', ' a', ' and', ' to', ' of', '.', ',', ' is', ' in', ' that', ' it', ' for', ' on', ' with', ' as', ' was', ' be', ' at', ' by', ' this'];

function bytesOf(text: string): number[] {
  return Array.from(Buffer.from(text, 'utf8'));
}

export function tokenLogprob(token: string, topCount: number): TokenLogprob {
  const hash = hashString(token);
  const logprob = -((hash % 2000) * 1000 + 125) / 1_000_000;
  const top: TopLogprob[] = [];
  if (topCount > 0) top.push({ token, logprob, bytes: bytesOf(token) });
  for (let i = 0, k = hash % ALTERNATIVES.length; top.length < topCount; i++, k = (k + 7) % ALTERNATIVES.length) {
    const alternative = ALTERNATIVES[k] as string;
    if (alternative === token) continue;
    top.push({ token: alternative, logprob: Math.round((logprob - 1.5 - i * 0.75) * 1_000_000) / 1_000_000, bytes: bytesOf(alternative) });
  }
  return { token, logprob, bytes: bytesOf(token), top_logprobs: top };
}
