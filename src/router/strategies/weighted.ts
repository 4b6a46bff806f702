// Weighted random: each deployment is first with probability weight / total, and the failover
// order is a weighted draw without replacement (each key is random^(1/weight), largest first).
import type { OrderCandidates } from './index.js';

export const weighted: OrderCandidates = (candidates, { random }) => {
  if (candidates.length < 2) return candidates;
  return candidates
    .map((candidate) => ({ candidate, key: Math.pow(random(), 1 / candidate.weight) }))
    .sort((a, b) => b.key - a.key)
    .map((entry) => entry.candidate);
};
