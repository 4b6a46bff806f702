// Liveness, readiness and Prometheus metrics.
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../observability/metrics.js';

export interface Lifecycle {
  /** False once shutdown has begun: load balancers stop sending, new requests get 503. */
  ready: boolean;
}

export function healthRoutes(app: FastifyInstance, lifecycle: Lifecycle, metrics: Metrics): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (!lifecycle.ready) return reply.code(503).send({ status: 'draining' });
    return { status: 'ready' };
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
