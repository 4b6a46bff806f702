// The contract between a request that found no upstream budget and the waiting room: what it
// tells the room (who it is, what it costs, how to look for budget again) and what a look finds.
import type { QueueConfig } from '../config/config.js';
import type { CancelSignal } from '../core/cancel.js';
import type { QueueClient } from './fair-queue.js';
import type { WaitReason } from './refusals.js';

export type WaitingRoomSettings = QueueConfig;

/** What a look for budget found. */
export type Attempt<T> =
  | { kind: 'granted'; value: T }
  | { kind: 'wait'; readyInMs: number; reason: WaitReason }
  /** Nothing can serve the request any more (every deployment down): it leaves with `error`. */
  | { kind: 'none'; error: unknown };

export interface WaitRequest<T> {
  /** Requests that could use the same deployments (see the router): one fair queue. */
  pool: string;
  /** The deployments behind the pool, so a call ending on one wakes the pool. */
  deployments: readonly string[];
  /** The model named in refusals. */
  model: string;
  client: QueueClient;
  /** Estimated tokens. */
  cost: number;
  signal: CancelSignal;
  /** When waiting must end, on the room's clock (see deadline()). */
  deadlineAt: number;
  /** The pool's configured refill in units per ms (Infinity: unlimited), for estimating the wait. */
  refill: { requests: number; tokens: number };
  /**
   * The look that sent the request here. Absent when it did not look, because others were
   * already waiting (taking budget then would jump the queue): the pool's own timing applies.
   */
  first?: { readyInMs: number; reason: WaitReason };
  /** Looks for budget again; a granted value goes to the caller. */
  attempt: () => Promise<Attempt<T>>;
  /** Gives back a grant whose request is no longer waiting. */
  discard: (value: T) => void;
}

export type WaitEvent = 'granted' | 'refused' | 'expired' | 'abandoned';

export interface WaitingRoomOptions {
  now?: () => number;
  /** For metrics: how each wait (or refusal, waitedMs 0) ended. */
  onEvent?: (event: WaitEvent, waitedMs: number) => void;
}
