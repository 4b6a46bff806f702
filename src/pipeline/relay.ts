// The last stage of a stream: renames chunks to the model that answered, meters them, closes the
// deployment's lease with the stream's real outcome (a cut mid-stream counts against its health),
// and, when the client leaves early, records the usage spent so far.
import type { CancelSignal } from '../core/cancel.js';
import type { ChatCompletionRequest } from '../core/openai-types.js';
import type { Metrics } from '../observability/metrics.js';
import type { ChunkStream } from '../providers/types.js';
import type { AttemptLease } from '../router/deployment-state.js';
import type { PromptSize } from '../router/prompt-size.js';
import { ABORTED, recordUpstreamOutcome } from './outcomes.js';
import { meterUsage, type UsageMeter } from './usage-meter.js';

export interface RelayContext {
  metrics: Metrics;
  request: ChatCompletionRequest;
  /** The public model that answered. */
  model: string;
  deployment: string;
  lease: AttemptLease;
  prompt: PromptSize;
  receivedAt: number;
  /** The request's signal: a deadline or shutdown that fires mid-stream ends the stream here. */
  signal: CancelSignal;
  /** The request's usage record. */
  meter?: UsageMeter;
}

/**
 * The adapter always asks upstream for usage, so the usage-only chunk is dropped again when the
 * client did not ask for it, as OpenAI does.
 */
export function relayChunks(ctx: RelayContext, upstream: ChunkStream): ChunkStream {
  const { metrics, model, deployment, lease } = ctx;
  const wantsUsage = ctx.request.stream_options?.include_usage === true;
  let firstTokenSeen = false;
  let usageSeen = false;
  /** Content and tool-call deltas relayed: about one token each, the estimate for a cut-short stream. */
  let pieces = 0;
  /** Set once the stream has ended one way or another: exactly one of end, error or abandon runs. */
  let finished = false;
  let onAbort = (): void => {};
  const settle = (error?: unknown): void => {
    finished = true;
    ctx.signal.off('abort', onAbort);
    recordUpstreamOutcome(metrics, deployment, error);
  };
  /** The client left, or the gateway's deadline or shutdown struck: no verdict on the upstream. */
  const abandon = (): void => {
    settle(ABORTED);
    lease.release();
    upstream.cancel();
    if (!usageSeen) recordPartialUsage();
  };
  return {
    pipe(sink) {
      // The gateway's own deadline (or shutdown) is not the upstream's fault: the lease is
      // released, not failed, and the client gets the reason as the stream's last event. Listening
      // here, not only through the socket, also covers a stream whose upstream body was already
      // read in full while a slow client held it paused.
      onAbort = () => {
        if (finished) return;
        abandon();
        sink.error(ctx.signal.reason);
      };
      if (ctx.signal.aborted) return onAbort();
      ctx.signal.once('abort', onAbort);
      upstream.pipe({
        chunk(chunk) {
          chunk.model = model;
          if (chunk.usage) {
            usageSeen = true;
            meterUsage(metrics, ctx.meter, model, deployment, chunk.usage);
            // Settled against the deployment's budget when the lease ends.
            lease.recordUsage(chunk.usage);
          }
          for (const choice of chunk.choices) {
            if (choice.delta.content || choice.delta.tool_calls || choice.delta.refusal) pieces++;
          }
          if (!firstTokenSeen && pieces > 0) {
            firstTokenSeen = true;
            metrics.timeToFirstToken.observe({ model, deployment }, (performance.now() - ctx.receivedAt) / 1000);
          }
          if (!wantsUsage) {
            if (chunk.choices.length === 0 && chunk.usage) return;
            delete chunk.usage;
          }
          sink.chunk(chunk);
        },
        end() {
          if (finished) return;
          settle();
          lease.succeed();
          sink.end();
        },
        error(error) {
          if (finished) return;
          settle(error);
          lease.fail(error);
          if (!usageSeen) recordPartialUsage();
          sink.error(error);
        },
      });
    },
    pause: () => upstream.pause(),
    resume: () => upstream.resume(),
    cancel() {
      if (finished) upstream.cancel();
      else abandon();
    },
  };

  /**
   * The upstream bills a stream cut short too: the whole prompt and what it generated so far.
   * Its usage chunk never comes, so the prompt is counted here and the output estimated.
   */
  function recordPartialUsage(): void {
    metrics.partialStreams.inc({ model, deployment });
    ctx.meter?.later(ctx.prompt.tokens().then(
      (promptTokens) => meterUsage(metrics, ctx.meter, model, deployment, { prompt_tokens: promptTokens, completion_tokens: pieces }),
      () => meterUsage(metrics, ctx.meter, model, deployment, { prompt_tokens: ctx.prompt.upperBound(), completion_tokens: pieces }),
    ));
  }
}
