// One request's token usage, gathered wherever the pipeline learns it (a completion's usage, a
// stream's usage chunk, the estimate for a stream cut short) and recorded once when the request is
// over: to the metrics at once, to the usage records through the batched history path.
import { isCapacityRefusal } from '../budget/refusals.js';
import type { Metrics } from '../observability/metrics.js';

type UsageLike = { prompt_tokens?: number; completion_tokens?: number } | null | undefined;

export class UsageMeter {
  model: string | undefined;
  deployment: string | undefined;
  promptTokens = 0;
  completionTokens = 0;
  /** Routing turned the request away for want of upstream capacity: the caller's daily quota gets it back. */
  turnedAway = false;
  private readonly waits: Promise<unknown>[] = [];

  /** Notes why routing gave up on the request. */
  routeFailed(error: unknown): void {
    if (isCapacityRefusal(error)) this.turnedAway = true;
  }

  add(model: string, deployment: string, usage: UsageLike): void {
    this.model = model;
    this.deployment = deployment;
    this.promptTokens += usage?.prompt_tokens ?? 0;
    this.completionTokens += usage?.completion_tokens ?? 0;
  }

  /** Usage that is still being worked out (counting a cut stream's prompt). */
  later(work: Promise<unknown>): void {
    this.waits.push(work.catch(() => {}));
  }

  /** Resolves once every pending count has landed. */
  async settled(): Promise<void> {
    await Promise.all(this.waits);
  }
}

/** Counts usage in the metrics and, when the request has a meter, in its usage record. */
export function meterUsage(metrics: Metrics, meter: UsageMeter | undefined, model: string, deployment: string, usage: UsageLike): void {
  metrics.recordUsage(model, deployment, usage);
  meter?.add(model, deployment, usage);
}
