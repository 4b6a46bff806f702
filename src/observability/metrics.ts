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

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'floodgate_' });
  }

  recordUsage(model: string, deployment: string, usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined): void {
    if (!usage) return;
    if (usage.prompt_tokens) this.tokens.inc({ model, deployment, direction: 'in' }, usage.prompt_tokens);
    if (usage.completion_tokens) this.tokens.inc({ model, deployment, direction: 'out' }, usage.completion_tokens);
  }
}
