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
    promptTokens: meter.promptTokens,
    completionTokens: meter.completionTokens,
    latencyMs: Math.max(0, Math.round(request.latencyMs)),
    status: request.status,
    costUsd: price ? costUsd(meter.promptTokens, meter.completionTokens, price) : null,
    createdAt: now,
  };
}

/** Exact decimal text with 8 places (the column's scale), computed in integers of 1e-8 dollars. */
export function costUsd(prompt: number, completion: number, price: { input_per_million: number; output_per_million: number }): string {
  // Prices per million tokens to 1e-8 dollars per token is a factor 100: per-token prices in
  // units of 1e-8 dollars are price * 100. Rounded once, at the end, from a float sum of two terms.
  const units = Math.round(prompt * price.input_per_million * 100 + completion * price.output_per_million * 100);
  const whole = Math.floor(units / 1e8);
  const fraction = String(units % 1e8).padStart(8, '0');
  return `${whole}.${fraction}`;
}
