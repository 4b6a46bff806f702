// Requests that found no upstream budget wait here instead of failing. Requests that could use
// the same deployments share a pool, served in fair-queue order (priority, then deficit round
// robin by tokens). A pool's head is tried when budget should be back (a timer at the time the
// budget said) or when a call ends; it is taken off once it holds a grant, so nobody behind it is
// let in first. Every request has a deadline: one whose turn would come after it is refused on
// arrival with a Retry-After from the queue, not after a wait that was bound to fail.
import type { GatewayError } from '../core/errors.js';
import { FairQueue, type QueueClient } from './fair-queue.js';
import { budgetExhausted, clientQueueFull, queueFull, type WaitReason } from './refusals.js';
import type { Attempt, WaitEvent, WaitingRoomOptions, WaitingRoomSettings, WaitRequest } from './wait-request.js';

export type { Attempt, WaitEvent, WaitingRoomOptions, WaitingRoomSettings, WaitRequest } from './wait-request.js';

interface Waiter {
  readonly client: QueueClient;
  readonly cost: number;
  readonly request: WaitRequest<unknown>;
  readonly since: number;
  waiting: boolean;
  settle: (result: { value: unknown } | { error: unknown }) => void;
}

interface Pool {
  key: string;
  queue: FairQueue<Waiter>;
  timer: NodeJS.Timeout | undefined;
  dueAt: number;
  pumping: boolean;
  /** Woken while pumping: look again before sleeping. */
  again: boolean;
  /** The reason its head last waited, for refusals at the deadline. */
  reason: WaitReason;
}

export class WaitingRoom {
  private readonly pools = new Map<string, Pool>();
  private readonly byDeployment = new Map<string, Set<Pool>>();
  private readonly now: () => number;
  private readonly onEvent: (event: WaitEvent, waitedMs: number) => void;
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly settings: WaitingRoomSettings,
    options: WaitingRoomOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.onEvent = options.onEvent ?? (() => {});
  }

  /** Requests waiting now. */
  get size(): number {
    return this.total;
  }

  /** The deadline of a request that starts waiting now. */
  deadline(): number {
    return this.now() + this.settings.deadline_ms;
  }

  /** No request waits in this pool: a newcomer may take budget directly without jumping a queue. */
  isIdle(pool: string): boolean {
    return !this.pools.has(pool);
  }

  /** A call on `deployment` ended: its pools look for budget again. */
  poke(deployment: string): void {
    for (const pool of this.byDeployment.get(deployment) ?? []) void this.pump(pool);
  }

  /** Waits for budget; rejects at once when the request cannot be served before its deadline. */
  wait<T>(request: WaitRequest<T>): Promise<T> {
    const now = this.now();
    const existing = this.pools.get(request.pool);
    const readyInMs = request.first?.readyInMs ?? Math.max(0, (existing?.dueAt ?? now) - now);
    const reason = request.first?.reason ?? existing?.reason ?? 'budget';
    const estimate = readyInMs + (existing ? this.queueTime(existing, request.client, request.refill) : 0);
    const refuse = (error: GatewayError): Promise<T> => {
      this.onEvent('refused', 0);
      return Promise.reject(error);
    };
    if (this.total >= this.settings.max_total) return refuse(queueFull(request.model, estimate));
    if ((this.perClient.get(request.client.key) ?? 0) >= this.settings.max_per_client) {
      return refuse(clientQueueFull(request.model, this.settings.max_per_client, estimate));
    }
    if (now + estimate > request.deadlineAt) return refuse(budgetExhausted(request.model, estimate, this.settings.deadline_ms, reason));
    if (request.signal.aborted) return Promise.reject(request.signal.reason);

    const pool = existing ?? this.openPool(request as WaitRequest<unknown>);
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        client: request.client, cost: request.cost, request: request as WaitRequest<unknown>, since: now, waiting: true,
        settle: (result) => {
          waiter.waiting = false;
          clearTimeout(deadline);
          request.signal.off('abort', onAbort);
          this.count(waiter.client.key, -1);
          if ('value' in result) resolve(result.value as T);
          else reject(result.error);
        },
      };
      const leave = (event: WaitEvent, error: unknown): void => {
        if (!waiter.waiting) return;
        pool.queue.remove(waiter); // false when already taken out
        this.onEvent(event, this.now() - waiter.since);
        waiter.settle({ error });
        this.afterChange(pool);
      };
      const onAbort = (): void => leave('abandoned', request.signal.reason);
      const deadline = setTimeout(() => {
        if (!waiter.waiting) return;
        pool.queue.remove(waiter);
        // The Retry-After: when its turn would have come, as things stand now.
        const left = Math.max(0, pool.dueAt - this.now()) + this.queueTime(pool, waiter.client, request.refill);
        leave('expired', budgetExhausted(request.model, left, this.settings.deadline_ms, pool.reason));
      }, Math.max(0, request.deadlineAt - now));
      request.signal.once('abort', onAbort);
      pool.queue.push(waiter);
      this.count(waiter.client.key, 1);
      pool.reason = reason;
      this.arm(pool, readyInMs);
    });
  }

  /** How long the requests ahead of a new one take at the pool's refill rates. */
  private queueTime(pool: Pool, client: QueueClient, refill: WaitRequest<unknown>['refill']): number {
    const ahead = pool.queue.ahead(client);
    return Math.max(ahead.requests / refill.requests, ahead.tokens / refill.tokens);
  }

  private async pump(pool: Pool): Promise<void> {
    if (pool.pumping) {
      pool.again = true;
      return;
    }
    pool.pumping = true;
    try {
      for (;;) {
        pool.again = false;
        const head = pool.queue.peek();
        if (!head) break;
        let result: Attempt<unknown>;
        try {
          result = await head.request.attempt();
        } catch (error) {
          result = { kind: 'none', error };
        }
        if (!head.waiting) {
          // It left (client gone, deadline) while we looked: what it got goes back.
          if (result.kind === 'granted') head.request.discard(result.value);
          continue;
        }
        if (result.kind === 'granted') {
          pool.queue.shift(head);
          this.onEvent('granted', this.now() - head.since);
          head.settle({ value: result.value });
          continue;
        }
        if (result.kind === 'none') {
          pool.queue.remove(head);
          this.onEvent('refused', this.now() - head.since);
          head.settle({ error: result.error });
          continue;
        }
        pool.reason = result.reason;
        if (this.now() + result.readyInMs > head.request.deadlineAt) {
          // Budget will not be back in time for it: say so now rather than at its deadline.
          pool.queue.remove(head);
          this.onEvent('expired', this.now() - head.since);
          head.settle({ error: budgetExhausted(head.request.model, result.readyInMs, this.settings.deadline_ms, result.reason) });
          continue;
        }
        if (pool.again) continue;
        this.arm(pool, result.readyInMs, true);
        break;
      }
    } finally {
      pool.pumping = false;
    }
    this.afterChange(pool);
  }

  /** Wakes the pool in `ms` (or sooner, if already due sooner; `replace`: exactly then). */
  private arm(pool: Pool, ms: number, replace = false): void {
    const due = this.now() + Math.max(0, ms);
    if (pool.timer && !replace && pool.dueAt <= due) return;
    clearTimeout(pool.timer);
    pool.dueAt = due;
    pool.timer = setTimeout(() => {
      pool.timer = undefined;
      void this.pump(pool);
    }, Math.max(0, ms));
  }

  private openPool(request: WaitRequest<unknown>): Pool {
    const pool: Pool = {
      key: request.pool, queue: new FairQueue<Waiter>(this.settings.quantum_tokens),
      timer: undefined, dueAt: 0, pumping: false, again: false, reason: 'budget',
    };
    this.pools.set(pool.key, pool);
    for (const deployment of request.deployments) {
      let pools = this.byDeployment.get(deployment);
      if (!pools) this.byDeployment.set(deployment, (pools = new Set()));
      pools.add(pool);
    }
    return pool;
  }

  /** A pool without waiters closes (its timer too); a removed head may free the next one. */
  private afterChange(pool: Pool): void {
    if (pool.queue.size > 0) {
      if (!pool.pumping && !pool.timer) this.arm(pool, 0);
      return;
    }
    if (pool.pumping || this.pools.get(pool.key) !== pool) return;
    clearTimeout(pool.timer);
    pool.timer = undefined;
    this.pools.delete(pool.key);
    for (const pools of this.byDeployment.values()) pools.delete(pool);
  }

  private count(client: string, delta: number): void {
    this.total += delta;
    const n = (this.perClient.get(client) ?? 0) + delta;
    if (n > 0) this.perClient.set(client, n);
    else this.perClient.delete(client);
  }
}
