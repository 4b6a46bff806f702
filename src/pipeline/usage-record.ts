// The usage record of one finished request: who, which model and deployment, tokens, latency, the
// status the client got, and the cost when the deployment has prices configured.
import { prefixedId } from '../core/ids.js';
import type { DeploymentConfig } from '../config/config.js';
import type { UsageRow } from '../storage/usage-store.js';
import type { UsageMeter } from './usage-meter.js';

export function usageRecord(
  meter: UsageMeter,
  request: { identity: string; model: string; status: number; latencyMs: number },
  deployments: ReadonlyMap<string, DeploymentConfig>,
  now = Date.now(),
): UsageRow {
  const price = meter.deployment ? deployments.get(meter.deployment)?.price : undefined;
  return {
    id: prefixedId('usage'),
    identity: request.identity,
    model: meter.model ?? request.model,
    deployment: meter.deployment ?? null,
    promptTokens: int4Count(meter.promptTokens),
    completionTokens: int4Count(meter.completionTokens),
    latencyMs: int4Count(request.latencyMs),
    status: request.status,
    costUsd: price ? costUsd(int4Count(meter.promptTokens), int4Count(meter.completionTokens), price) : null,
    createdAt: now,
  };
}

/**
 * Upstreams report usage, and a buggy one may report 12.5, -1 or 1e12 tokens: the column is int4,
 * and one row it refuses would fail its whole batch on every retry, stalling all history writes.
 */
function int4Count(value: number): number {
  return Number.isFinite(value) ? Math.min(INT4_MAX, Math.max(0, Math.round(value))) : 0;
}

const INT4_MAX = 2_147_483_647;

/** Exact decimal text with 8 places (the column's scale), computed in integers of 1e-8 dollars. */
export function costUsd(prompt: number, completion: number, price: { input_per_million: number; output_per_million: number }): string {
  // Prices per million tokens to 1e-8 dollars per token is a factor 100: per-token prices in
  // units of 1e-8 dollars are price * 100. Rounded once, at the end, from a float sum of two terms.
  const units = Math.round(prompt * price.input_per_million * 100 + completion * price.output_per_million * 100);
  const whole = Math.floor(units / 1e8);
  const fraction = String(units % 1e8).padStart(8, '0');
  return `${whole}.${fraction}`;
}
