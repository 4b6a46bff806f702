// Wires a Config into a listening gateway and knows how to drain it. Used by main.ts and by tests.
import type { Logger } from 'pino';
import { buildApp, type App } from './app.js';
import type { Config } from './config/config.js';
import { shuttingDown } from './core/errors.js';
import { Metrics } from './observability/metrics.js';
import { ProviderRegistry } from './providers/registry.js';
import { ModelCatalog } from './router/catalog.js';
import { Router } from './router/router.js';
import { HistoryHandle } from './history/history-handle.js';
import { openHistory } from './history/open-history.js';
import { ApiKeys } from './identity/api-keys.js';
import { Identifier } from './identity/identity.js';
import { resolveSessionSecret } from './identity/session-secret.js';
import { SessionTokens } from './identity/session-tokens.js';
import { describeError } from './observability/logger.js';
import { OverloadMonitor } from './overload/overload-monitor.js';
import { openRateLimiter } from './limits/open-limiter.js';
import { connectLimitsRedis } from './limits/redis-connection.js';
import { RedisBudgetBackend } from './budget/redis-backend.js';
import { throttledWarn } from './history/history-errors.js';

/** Time given to cancelled responses to reach their clients before sockets are closed. */
const FLUSH_MS = 1000;

export interface Gateway {
  app: App;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  /**
   * Graceful stop: readiness turns false and new requests get 503 at once; open requests and
   * streams may finish until the deadline, then are cancelled with a 503 or a last error event;
   * then sockets and pools close.
   */
  shutdown(graceMs?: number): Promise<void>;
}

export interface GatewayOptions {
  processMetrics?: boolean;
  /**
   * Open storage (and run migrations) before listening, as `serve` does. Otherwise it opens on the
   * first request that needs it, and usage records from before that are not kept: for tests.
   */
  eagerStorage?: boolean;
}

export async function startGateway(config: Config, logger: Logger, options: GatewayOptions = {}): Promise<Gateway> {
  const registry = new ProviderRegistry();
  const metrics = new Metrics(options);
  // Upstream budgets: per process, or shared by every node through Redis with the limits.
  const redisUrl = process.env.REDIS_URL || config.storage.redis_url;
  const budgetRedis = config.limits.backend === 'redis' && redisUrl
    ? connectLimitsRedis(redisUrl, { commandTimeoutMs: config.limits.redis_timeout_ms }, logger)
    : undefined;
  const warnBudget = throttledWarn(logger);
  const budgetBackend = budgetRedis
    ? new RedisBudgetBackend({
      redis: budgetRedis, prefix: 'floodgate:budget', leaseMs: config.routing.total_timeout_ms + 60_000, nodes: config.limits.nodes,
      timeoutMs: config.limits.redis_timeout_ms, onError: (error) => warnBudget(error, 'upstream budget: Redis unreachable, spending 1/nodes locally'),
    })
    : undefined;
  const catalog = new ModelCatalog(config, registry, {
    ...(budgetBackend ? { budgetBackend } : {}),
    onWait(event, waitedMs) {
      metrics.budgetWaits.inc({ outcome: event });
      if (event === 'granted') metrics.budgetWaitSeconds.observe(waitedMs / 1000);
    },
    onBreakerChange(deployment, state) {
      metrics.breakerTransitions.inc({ deployment, state });
      logger[state === 'open' ? 'warn' : 'info']({ deployment, breaker: state }, `circuit breaker ${state.replace('_', '-')}`);
    },
  });
  metrics.watchDeployments(catalog.deployments);
  const router = new Router(config.routing, {
    onFirstByte: (deployment, ms) => metrics.upstreamLatency.observe({ deployment }, ms / 1000),
  });
  const identifier = new Identifier(
    new ApiKeys(config.auth.api_keys),
    new SessionTokens(resolveSessionSecret(config.auth, config.storage), config.auth.session_ttl_s),
  );
  const history = new HistoryHandle(() => openHistory(config.storage, logger));
  if (options.eagerStorage) {
    // A database that is down at start-up is retried by the first request that needs it.
    await history.get().catch((error: unknown) => logger.error({ err: describeError((error as Error).cause ?? error) }, 'storage did not open; will retry on demand'));
  }
  const overload = new OverloadMonitor(config.overload);
  const limiter = await openRateLimiter({
    limits: config.limits,
    redisUrl,
    logger,
    // A concurrency slot held in Redis outlives the longest request, or a long stream loses it.
    redis: { leaseMs: config.routing.total_timeout_ms + 60_000 },
    onModeChange: (mode) => logger[mode === 'redis' ? 'info' : 'warn']({ limits: mode }, `client limits now decided in ${mode}`),
  });
  const app = buildApp({ server: config.server, routing: config.routing, catalog, router, metrics, logger, identifier, history, deployments: config.deployments, overload, limits: config.limits, limiter });
  await app.fastify.listen({ host: config.server.host, port: config.server.port });
  const address = app.fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;

  let stopping: Promise<void> | undefined;
  const shutdown = (graceMs = config.server.shutdown_grace_ms): Promise<void> => {
    stopping ??= (async () => {
      app.lifecycle.ready = false;
      if (!(await app.inflight.drained(graceMs))) {
        logger.warn({ open: app.inflight.size }, 'shutdown deadline reached; cancelling what is still open');
        // Waiting calls answer 503, open streams end with a shutting_down error event.
        app.inflight.cancelAll(shuttingDown());
        await app.inflight.drained(FLUSH_MS);
      }
      // Whatever is still open after the flush (a client that stopped reading) is cut.
      const closed = app.fastify.close();
      const timer = setTimeout(() => app.fastify.server.closeAllConnections(), FLUSH_MS);
      await closed;
      clearTimeout(timer);
      overload.stop();
      await limiter.close();
      budgetRedis?.disconnect();
      await registry.close();
      const drained = await history.close(config.storage.drain_ms);
      if (!drained) logger.error('storage drain deadline reached with writes still pending');
    })();
    return stopping;
  };
  return { app, url: `http://${host}:${port}`, shutdown };
}
