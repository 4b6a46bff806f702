// Lowest latency: the smallest moving average of time to first token goes first. A deployment
// with no recent sample (never called, or not for STALE_MS) goes first of all, so a deployment
// that was slow once is tried again later instead of being starved forever.
import type { OrderCandidates } from './index.js';

const STALE_MS = 30_000;

export const lowestLatency: OrderCandidates = (candidates, { now, random }) => {
  if (candidates.length < 2) return candidates;
  return candidates
    .map((candidate) => {
      const { latencyMs, lastSampleAt } = candidate.state;
      const known = latencyMs !== undefined && now - lastSampleAt < STALE_MS;
      return { candidate, latency: known ? latencyMs : -1, tie: random() };
    })
    .sort((a, b) => a.latency - b.latency || a.tie - b.tie)
    .map((entry) => entry.candidate);
};
