// Metrics of upstream calls, shared by chat, streams and embeddings.
import { GatewayError, isAbort } from '../core/errors.js';
import type { Metrics } from '../observability/metrics.js';

export const ABORTED = Symbol('aborted');

/** One upstream call's outcome: ok, aborted (the client left) or an error code by deployment. */
export function recordUpstreamOutcome(metrics: Metrics, deployment: string, error?: unknown): void {
  if (error === undefined) {
    metrics.upstreamRequests.inc({ deployment, outcome: 'ok' });
  } else if (error === ABORTED || isAbort(error)) {
    metrics.upstreamRequests.inc({ deployment, outcome: 'aborted' });
  } else {
    metrics.upstreamRequests.inc({ deployment, outcome: 'error' });
    metrics.upstreamErrors.inc({ deployment, code: error instanceof GatewayError ? error.code : 'internal' });
  }
}
