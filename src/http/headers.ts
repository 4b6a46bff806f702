// Response headers that tell the caller what routing did.
import type { FastifyReply } from 'fastify';
import type { RouteReport } from '../pipeline/chat.js';

/** The deployment that answered (or, on an error, the last one that failed). */
export const DEPLOYMENT_HEADER = 'x-floodgate-deployment';
/** The model that answered, when it differs from the requested one as much as when it does not. */
export const MODEL_HEADER = 'x-floodgate-model';
/** Upstream calls made for this answer; above 1 means retries or failover happened. */
export const ATTEMPTS_HEADER = 'x-floodgate-attempts';
/** Why another model answered: vision, tools, json_schema, context, fallback or content_policy. */
export const REROUTED_HEADER = 'x-floodgate-rerouted';

/** What routing did, for the caller: who answered, as which model, after how many tries, and why. */
export function routeHeaders(report: RouteReport): Record<string, string> {
  const headers: Record<string, string> = {
    [DEPLOYMENT_HEADER]: report.deployment,
    [MODEL_HEADER]: report.model,
    [ATTEMPTS_HEADER]: String(report.attempts),
  };
  if (report.rerouted) headers[REROUTED_HEADER] = report.rerouted;
  return headers;
}

/**
 * Headers set on the reply so far (the rate-limit headers, x-request-id). A stream writes its
 * head on the raw response, which would otherwise leave them out.
 */
export function replyHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (typeof value === 'string' || typeof value === 'number') headers[name] = String(value);
  }
  return headers;
}
