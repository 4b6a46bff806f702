// Ordered priority: the configured order, always. The first deployment takes all traffic while it
// is available; the next ones are the failover path (e.g. a reserved instance, then pay-as-you-go).
import type { OrderCandidates } from './index.js';

export const priority: OrderCandidates = (candidates) => candidates;
