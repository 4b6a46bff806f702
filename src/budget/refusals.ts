// The answers a request gets when it cannot wait for upstream budget: early, with a Retry-After
// computed from the queue, rather than after a wait that was bound to fail.
import { GatewayError } from '../core/errors.js';

/** Why a request waits: budget we keep ourselves, or an upstream's own Retry-After. */
export type WaitReason = 'budget' | 'rate_limited';

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** Codes of the answers that turn a request away for want of upstream capacity, not for anything it did. */
const CAPACITY_CODES = new Set(['upstream_budget_exhausted', 'upstream_rate_limited', 'too_many_waiting_requests', 'queue_full']);

/** The request was turned away for want of upstream capacity (the queue's refusals, an upstream 429 passed on). */
export function isCapacityRefusal(error: unknown): boolean {
  return error instanceof GatewayError && CAPACITY_CODES.has(error.code);
}

/** Its turn would come after its deadline (estimated on arrival, or seen as the deadline passed). */
export function budgetExhausted(model: string, waitMs: number, deadlineMs: number, reason: WaitReason): GatewayError {
  const why = reason === 'budget' ? 'has upstream budget left' : 'may be called before its Retry-After ends';
  return new GatewayError(
    `No deployment of model '${model}' ${why} for this request within the queue deadline of ${seconds(deadlineMs)} s (estimated wait ${seconds(waitMs)} s); retry after ${seconds(waitMs)} s.`,
    {
      status: 429, type: 'rate_limit_error', code: reason === 'budget' ? 'upstream_budget_exhausted' : 'upstream_rate_limited',
      retryable: true, retryAfterSeconds: seconds(waitMs),
    },
  );
}

/** The caller already has queue.max_per_client requests waiting. */
export function clientQueueFull(model: string, limit: number, waitMs: number): GatewayError {
  return new GatewayError(
    `You already have ${limit} requests waiting for upstream budget (the most allowed); model '${model}' is at its upstream limits. Retry after ${seconds(waitMs)} s.`,
    { status: 429, type: 'rate_limit_error', code: 'too_many_waiting_requests', retryable: true, retryAfterSeconds: seconds(waitMs) },
  );
}

/** queue.max_total requests are waiting: the gateway as a whole is saturated. */
export function queueFull(model: string, waitMs: number): GatewayError {
  return new GatewayError(
    `The gateway's queue for upstream budget is full; model '${model}' is at its upstream limits. Retry after ${seconds(waitMs)} s.`,
    { status: 503, type: 'service_unavailable', code: 'queue_full', retryable: true, retryAfterSeconds: seconds(waitMs) },
  );
}
