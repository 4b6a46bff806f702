// buildApp(deps) -> the Fastify server with every route. No I/O happens at import or build time,
// so tests build as many apps as they like; main.ts does the listening.
import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { RoutingConfig, ServerConfig } from './config/config.js';
import { GatewayError, shuttingDown } from './core/errors.js';
import { describeError } from './observability/logger.js';
import type { Metrics } from './observability/metrics.js';
import type { ModelCatalog } from './router/catalog.js';
import type { Router } from './router/router.js';
import { parseJsonBody, UnreadableBody } from './http/json-body.js';
import { toGatewayError } from './http/error-reply.js';
import { chatRoutes } from './http/chat.js';
import { embeddingRoutes } from './http/embeddings.js';
import { modelRoutes } from './http/models.js';
import { healthRoutes, type Lifecycle } from './http/health.js';
import { ATTEMPTS_HEADER, DEPLOYMENT_HEADER } from './http/headers.js';
import { InFlight } from './http/context.js';
import { conversationRoutes } from './http/conversations.js';
import { sessionRoutes } from './http/sessions.js';
import { responseRoutes } from './http/responses.js';
import type { HistoryHandle } from './history/history-handle.js';
import type { Identifier, Identity } from './identity/identity.js';
import { usageRecord } from './pipeline/usage-record.js';
import type { UsageMeter } from './pipeline/usage-meter.js';
import type { OverloadMonitor } from './overload/overload-monitor.js';
import { shedOverload } from './overload/shed.js';
import { clientLimits } from './http/client-limits.js';
import { ClientAddresses } from './identity/client-address.js';
import type { RateLimiter } from './limits/types.js';
import type { LimitsConfig } from './config/config.js';
import type { DeploymentConfig } from './config/config.js';

export interface AppDeps {
  server: ServerConfig;
  routing: RoutingConfig;
  catalog: ModelCatalog;
  router: Router;
  metrics: Metrics;
  logger: Logger;
  identifier: Identifier;
  /** Stored state (conversations, responses, usage), opened on first need. */
  history: HistoryHandle;
  /** For the cost in usage records. */
  deployments: ReadonlyMap<string, DeploymentConfig>;
  /** Says when this process is too loaded to take new requests. */
  overload: OverloadMonitor;
  /** Client limits per tier, and the limiter that keeps their counts. */
  limits: LimitsConfig;
  limiter: RateLimiter;
}

export interface App {
  fastify: FastifyInstance;
  lifecycle: Lifecycle;
  inflight: InFlight;
}

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const OPERATIONAL_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const IDENTITY_OPTIONAL = new Set([...OPERATIONAL_PATHS, '/v1/sessions']);
const NUL_IN_URL = /%00/i;

export function buildApp(deps: AppDeps): App {
  const { server, metrics } = deps;
  const lifecycle: Lifecycle = { ready: true };
  const inflight = new InFlight();

  const fastify = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Fastify's two lines per request are replaced by one access-log line (below) that we control.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: server.body_limit_bytes,
    // A caller's own request id is kept (so traces join up) only when it is short and plain.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : `req_${randomUUID().replaceAll('-', '')}`;
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    return503OnClosing: false,
  });

  fastify.decorateRequest('receivedAt', 0);
  fastify.decorateRequest('routeModel', '');
  fastify.decorateRequest('identity', null as never);
  fastify.decorateRequest('meter', undefined);
  fastify.decorateRequest('client', undefined);

  fastify.removeAllContentTypeParsers();
  // Any content type is read as JSON: `curl -d` sends form encoding by default, and a clear JSON
  // error beats a 415 for a newcomer.
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: server.body_limit_bytes }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer, server.max_json_depth));
    } catch (error) {
      if (error instanceof GatewayError) done(null, new UnreadableBody(error));
      else done(error as Error, undefined);
    }
  });

  fastify.addHook('onRequest', (request, reply, done) => {
    request.receivedAt = performance.now();
    reply.header('x-request-id', request.id);
    const route = request.routeOptions.url ?? 'unknown';
    reply.raw.once('close', () => {
      const status = reply.raw.statusCode;
      const model = request.routeModel || 'none';
      const seconds = (performance.now() - request.receivedAt) / 1000;
      metrics.requests.inc({ route, model, status });
      if (!OPERATIONAL_PATHS.has(route)) metrics.latency.observe({ route, model }, seconds);
      if (server.access_log) {
        request.log.info({ method: request.method, route, status, model, ms: Math.round(seconds * 1000), aborted: !reply.raw.writableFinished }, 'request');
      }
      // On the next turn of the loop: the request's own close handler (registered later) aborts
      // the upstream, and a stream cut short only then adds its partial usage to the meter.
      const meter = request.meter;
      if (meter) setImmediate(() => recordUsage(meter, { identity: ownerOrAnonymous(request.identity), model, status, latencyMs: seconds * 1000 }));
    });
    if (!lifecycle.ready && !OPERATIONAL_PATHS.has(route)) {
      reply.header('connection', 'close');
      done(shuttingDown());
      return;
    }
    // A NUL cannot be stored or looked up in PostgreSQL text: refused here, before any query.
    if (NUL_IN_URL.test(request.url)) {
      done(new GatewayError('The URL contains a NUL character.', { status: 400, type: 'invalid_request_error', code: 'invalid_value' }));
      return;
    }
    try {
      request.identity = deps.identifier.identify(request);
    } catch (error) {
      request.identity = { kind: 'anonymous' };
      // A stale session token must not lock its holder out of getting a new one, nor out of
      // the health endpoints; everywhere else it is refused, so the caller learns at once.
      if (!IDENTITY_OPTIONAL.has(route)) {
        done(error as Error);
        return;
      }
    }
    done();
  });

  // After the hook above (request metrics and the access log see a refusal), before any body is read.
  shedOverload(fastify, deps.overload, { exemptRoutes: OPERATIONAL_PATHS, onShed: (reason) => metrics.shed.inc({ reason }) });
  clientLimits(fastify, {
    limiter: deps.limiter,
    addresses: new ClientAddresses(deps.limits.trusted_proxies, { proxyHeader: deps.limits.proxy_header, ipv6Prefix: deps.limits.ipv6_prefix }),
    tiers: deps.limits.tiers,
    exempt: OPERATIONAL_PATHS,
    onRefused: (limit, tier) => metrics.rateLimited.inc({ limit, tier }),
  });
  // Counted by the limits above, a body that could not be read is refused now, before validation.
  fastify.addHook('preValidation', async (request) => {
    if (request.body instanceof UnreadableBody) throw request.body.error;
  });

  /** Usage records go through the batched history path once storage is open; never awaited. */
  const recordUsage = (meter: UsageMeter, request: Parameters<typeof usageRecord>[1]): void => {
    const history = deps.history.current();
    if (!history) return;
    void meter.settled().then(() => history.recordUsage(usageRecord(meter, request, deps.deployments)));
  };

  fastify.setErrorHandler((error, request, reply) => {
    const failure = toGatewayError(error);
    if (failure.status >= 500) {
      if (failure.code === 'internal_error') request.log.error({ err: describeError(error) }, 'unexpected error');
      // Refusals that hit many requests at once by design: one line each would flood the log.
      else if (failure.shedding) request.log.debug({ code: failure.code }, failure.message);
      else request.log.warn({ code: failure.code, deployment: failure.deployment }, failure.message);
    }
    if (failure.retryAfterSeconds !== undefined) reply.header('retry-after', String(failure.retryAfterSeconds));
    // The precise wait, which the openai SDKs read before Retry-After's whole seconds.
    if (failure.retryAfterMs !== undefined) reply.header('retry-after-ms', String(Math.ceil(failure.retryAfterMs)));
    if (failure.deployment) reply.header(DEPLOYMENT_HEADER, failure.deployment);
    if (failure.attempts !== undefined) reply.header(ATTEMPTS_HEADER, String(failure.attempts));
    return reply.code(failure.status).send(failure.toBody());
  });

  fastify.setNotFoundHandler((request, reply) => {
    const failure = new GatewayError(`Invalid URL (${request.method} ${request.url.split('?')[0]})`, {
      status: 404, type: 'invalid_request_error', code: 'unknown_url',
    });
    return reply.code(404).send(failure.toBody());
  });

  const pipeline = { catalog: deps.catalog, router: deps.router, metrics, inflight, totalTimeoutMs: deps.routing.total_timeout_ms };
  healthRoutes(fastify, lifecycle, metrics);
  modelRoutes(fastify, deps.catalog);
  chatRoutes(fastify, { ...pipeline, maxMessages: server.max_messages, keepaliveMs: deps.routing.stream_keepalive_ms });
  embeddingRoutes(fastify, pipeline);
  const state = { history: () => deps.history.get() };
  sessionRoutes(fastify, deps.identifier.sessions);
  conversationRoutes(fastify, state);
  responseRoutes(fastify, { ...pipeline, ...state, keepaliveMs: deps.routing.stream_keepalive_ms });

  return { fastify, lifecycle, inflight };
}

/** Usage records name the owner of an API key or session; everyone else is 'anonymous'. */
function ownerOrAnonymous(identity: Identity | null): string {
  return identity && identity.kind !== 'anonymous' ? identity.owner : 'anonymous';
}
