// A strategy orders a model's available deployments for one request: the first is called, the
// rest are the failover order. Each is one small module; the config names them.
import type { Strategy } from '../../config/config.js';
import type { DeploymentState } from '../deployment-state.js';
import { leastInFlight } from './least-in-flight.js';
import { lowestLatency } from './lowest-latency.js';
import { priority } from './priority.js';
import { weighted } from './weighted.js';

export interface Candidate {
  state: DeploymentState;
  weight: number;
}

export interface StrategyContext {
  random: () => number;
  now: number;
}

export type OrderCandidates = (candidates: Candidate[], ctx: StrategyContext) => Candidate[];

export const STRATEGY_ORDER: Record<Strategy, OrderCandidates> = {
  weighted,
  'least-in-flight': leastInFlight,
  'lowest-latency': lowestLatency,
  priority,
};
