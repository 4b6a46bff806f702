// Least in-flight requests, relative to weight (a deployment of weight 2 takes twice the calls).
// Ties are broken at random so equal deployments share evenly instead of the first taking all.
import type { OrderCandidates } from './index.js';

export const leastInFlight: OrderCandidates = (candidates, { random }) => {
  if (candidates.length < 2) return candidates;
  return candidates
    .map((candidate) => ({ candidate, load: candidate.state.inFlight / candidate.weight, tie: random() }))
    .sort((a, b) => a.load - b.load || a.tie - b.tie)
    .map((entry) => entry.candidate);
};
