// The errors a caller gets when routing gives up. They say what happened to each attempt (by
// deployment name, status and code: never a URL or key, which adapters already keep out of
// messages) so an operator reading a client's bug report knows which upstream to look at.
import { GatewayError } from '../core/errors.js';
import type { RoutedModel } from './catalog.js';

export interface FailedAttempt {
  deployment: string;
  error: unknown;
}

/**
 * Every attempt failed: the status is the last attempt's, or 429 when each one was rate limited;
 * the code is the one they share, else upstreams_exhausted.
 */
export function allAttemptsFailed(model: string, failures: FailedAttempt[], stoppedBecause?: string): GatewayError {
  const errors = failures.map((f) => (f.error instanceof GatewayError ? f.error : undefined));
  const listed = failures.map((f, i) => describe(f.deployment, errors[i])).join('; ');
  const allRateLimited = errors.every((e) => e?.status === 429);
  // One shared cause keeps its own code (every attempt timed out: upstream_timeout).
  const sharedCode = errors.every((e) => e !== undefined && e.code === errors[0]?.code) ? errors[0]?.code : undefined;
  const last = errors[errors.length - 1];
  const waits = errors.flatMap((e) => (e?.retryAfterSeconds === undefined ? [] : [e.retryAfterSeconds]));
  const why = stoppedBecause ? ` Stopped because ${stoppedBecause}.` : '';
  const what = failures.length === 1 ? `The only attempt for model '${model}' failed` : `All ${failures.length} attempts for model '${model}' failed`;
  return new GatewayError(`${what}: ${listed}.${why}`, {
    status: allRateLimited ? 429 : (last?.status ?? 502),
    type: allRateLimited ? 'rate_limit_error' : (last?.type ?? 'upstream_error'),
    code: sharedCode ?? (allRateLimited ? 'upstream_rate_limited' : 'upstreams_exhausted'),
    retryable: true,
    ...(waits.length > 0 ? { retryAfterSeconds: Math.min(...waits) } : {}),
    ...(last?.deployment ? { deployment: last.deployment } : {}),
  });
}

/** Nothing could be called: every deployment is inside a Retry-After or cooldown window. */
export function noDeploymentAvailable(model: string, models: RoutedModel[], now: number): GatewayError {
  const states = models.flatMap((m) => m.candidates.map((c) => c.state));
  const cooling = states.filter((s) => s.coolingFor(now) > 0);
  const waitMs = cooling.length > 0 ? Math.min(...cooling.map((s) => s.coolingFor(now))) : 1000;
  const rateLimited = cooling.some((s) => s.coolingBecause === 429);
  const names = states.map((s) => s.name).join(', ');
  return new GatewayError(
    `No deployment of model '${model}' can take a request right now (${names}: ${rateLimited ? 'rate limited upstream' : 'unavailable'}); retry after ${Math.ceil(waitMs / 1000)} s.`,
    {
      status: rateLimited ? 429 : 503,
      type: rateLimited ? 'rate_limit_error' : 'service_unavailable',
      code: rateLimited ? 'upstream_rate_limited' : 'no_deployment_available',
      retryable: true,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    },
  );
}

function describe(deployment: string, error: GatewayError | undefined): string {
  if (!error) return `${deployment}: internal error`;
  return `${deployment}: ${error.status} ${error.code} (${error.message})`;
}
