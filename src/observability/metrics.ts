// Prometheus metrics. A Registry per app (no prom-client globals) so tests can build many apps.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'floodgate_requests_total',
    help: 'HTTP requests answered, by route, public model and status code.',
    labelNames: ['route', 'model', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'floodgate_request_duration_seconds',
    help: 'Time from request received to response finished (whole stream for streams).',
    labelNames: ['route', 'model'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly timeToFirstToken = new Histogram({
    name: 'floodgate_time_to_first_token_seconds',
    help: 'Time from request received to the first content token sent, for streams.',
    labelNames: ['model', 'deployment'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly shed = new Counter({
    name: 'floodgate_shed_requests_total',
    help: 'Requests refused with 503 because this process was overloaded, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly budgetWaits = new Counter({
    name: 'floodgate_budget_waits_total',
    help: 'Requests that waited for upstream budget, by how the wait ended (granted, refused, expired, abandoned).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly budgetWaitSeconds = new Histogram({
    name: 'floodgate_budget_wait_seconds',
    help: 'How long granted requests waited for upstream budget.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'floodgate_rate_limited_total',
    help: 'Requests refused by the client limits, by limit and tier.',
    labelNames: ['limit', 'tier'] as const,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'floodgate_tokens_total',
    help: 'Tokens reported by upstreams, by direction (in = prompt, out = completion).',
    labelNames: ['model', 'deployment', 'direction'] as const,
    registers: [this.registry],
  });
  readonly upstreamRequests = new Counter({
    name: 'floodgate_upstream_requests_total',
    help: 'Calls made to upstream deployments, by outcome.',
    labelNames: ['deployment', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly upstreamErrors = new Counter({
    name: 'floodgate_upstream_errors_total',
    help: 'Upstream failures by deployment and error code.',
    labelNames: ['deployment', 'code'] as const,
    registers: [this.registry],
  });
  readonly openStreams = new Gauge({
    name: 'floodgate_open_streams',
    help: 'Streams currently being sent to clients.',
    registers: [this.registry],
  });

  readonly upstreamLatency = new Histogram({
    name: 'floodgate_upstream_first_byte_seconds',
    help: 'Time from calling a deployment to its first token (streams) or whole answer, successful calls only.',
    labelNames: ['deployment'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly attemptsPerRequest = new Histogram({
    name: 'floodgate_upstream_attempts_per_request',
    help: 'Upstream calls made to answer one request (1 = no retry or failover).',
    buckets: [1, 2, 3, 4, 5, 10],
    registers: [this.registry],
  });
  readonly reroutes = new Counter({
    name: 'floodgate_reroutes_total',
    help: 'Requests served by another model because the requested one lacked a capability.',
    labelNames: ['from', 'to', 'reason'] as const,
    registers: [this.registry],
  });
  readonly breakerTransitions = new Counter({
    name: 'floodgate_breaker_transitions_total',
    help: 'Circuit breaker state changes, by deployment and new state.',
    labelNames: ['deployment', 'state'] as const,
    registers: [this.registry],
  });
  readonly partialStreams = new Counter({
    name: 'floodgate_partial_streams_total',
    help: 'Streams that ended early (client gone or upstream failure); their usage is counted as far as it went.',
    labelNames: ['model', 'deployment'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'floodgate_' });
  }

  /**
   * Per-deployment gauges read at scrape time: breaker state (0 closed, 1 half-open, 2 open),
   * calls in flight, and seconds left in a Retry-After or cooldown window.
   */
  watchDeployments(deployments: ReadonlyMap<string, { inFlight: number; breaker: { current(): string }; coolingFor(now: number): number }>): void {
    const stateValue: Record<string, number> = { closed: 0, half_open: 1, open: 2 };
    new Gauge({
      name: 'floodgate_deployment_breaker_state',
      help: 'Circuit breaker state per deployment: 0 closed, 1 half-open, 2 open.',
      labelNames: ['deployment'] as const,
      registers: [this.registry],
      collect() {
        for (const [name, d] of deployments) this.set({ deployment: name }, stateValue[d.breaker.current()] ?? 0);
      },
    });
    new Gauge({
      name: 'floodgate_deployment_in_flight',
      help: 'Upstream calls in flight per deployment (streams count until they end).',
      labelNames: ['deployment'] as const,
      registers: [this.registry],
      collect() {
        for (const [name, d] of deployments) this.set({ deployment: name }, d.inFlight);
      },
    });
    new Gauge({
      name: 'floodgate_deployment_cooldown_seconds',
      help: 'Seconds until a deployment may be called again after a rate limit or Retry-After (0 = now).',
      labelNames: ['deployment'] as const,
      registers: [this.registry],
      collect() {
        const now = Date.now();
        for (const [name, d] of deployments) this.set({ deployment: name }, d.coolingFor(now) / 1000);
      },
    });
  }

  recordUsage(model: string, deployment: string, usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined): void {
    if (!usage) return;
    if (usage.prompt_tokens) this.tokens.inc({ model, deployment, direction: 'in' }, usage.prompt_tokens);
    if (usage.completion_tokens) this.tokens.inc({ model, deployment, direction: 'out' }, usage.completion_tokens);
  }
}
