// One deployment's upstream budget: requests and tokens per minute and calls at once, from its
// configuration, tightened by what the upstream reports (its limits and what remains of them in
// rate-limit headers, Retry-After on a 429, and the 429s themselves, which slow the pace: pace.ts).
// The state lives in a backend (memory or Redis); this class turns configuration into rates and
// hands out grants that settle the real usage when the call is over.
import type { DeploymentConfig } from '../config/config.js';
import type { BudgetBackend, DimensionReport, RefusalReason, UpstreamReport } from './backend.js';
import { BURST_MS, perMinute, type Rate } from './gcra.js';
import { Pace } from './pace.js';
import { readRateHeaders } from './rate-headers.js';

/** A limit left out is not enforced. */
export type DeploymentLimits = DeploymentConfig['limits'];

export type BudgetTake =
  | { ok: true; grant: BudgetGrant }
  | { ok: false; readyInMs: number; reason: RefusalReason };

export interface DeploymentBudgetOptions {
  /** Told when a call ends: a slot or refunded tokens may let a waiting request go. */
  onFree?: () => void;
  burstMs?: number;
  now?: () => number;
}

export class DeploymentBudget {
  private requests: Rate | undefined;
  private tokenRate: Rate | undefined;
  private readonly maxConcurrency: number | undefined;
  private readonly onFree: () => void;
  private readonly burstMs: number;
  /** The per-minute limits the upstream last reported, to act only when one changes. */
  private readonly reported: { requests?: number; tokens?: number } = {};
  private readonly pace: Pace;
  /** The pace's share the rates were computed with. */
  private share = 1;

  constructor(
    readonly deployment: string,
    readonly limits: DeploymentLimits,
    private readonly backend: BudgetBackend,
    options: DeploymentBudgetOptions = {},
  ) {
    this.burstMs = options.burstMs ?? BURST_MS;
    this.pace = new Pace(options.now);
    this.maxConcurrency = limits.max_concurrency;
    this.onFree = options.onFree ?? (() => {});
    this.computeRates();
  }

  /**
   * The rates calls are spaced by: each configured per-minute limit, lowered to the upstream's
   * reported one and scaled by the pace its 429s have taught. Unconfigured limits stay unlimited.
   */
  private computeRates(): void {
    const rate = (configured: number | undefined, reported: number | undefined): Rate | undefined =>
      configured ? perMinute(Math.min(configured, reported ?? Infinity) * this.share, this.burstMs) : undefined;
    this.requests = rate(this.limits.rpm, this.reported.requests);
    this.tokenRate = rate(this.limits.tpm, this.reported.tokens);
  }

  /** Whether tokens are budgeted by configuration, so a request's size is worth counting exactly. */
  get countsTokens(): boolean {
    return this.tokenRate !== undefined;
  }

  /** Configured refill in units per ms (Infinity: not limited), for estimating waits. */
  get refill(): { requests: number; tokens: number } {
    return { requests: this.requests ? 1 / this.requests.inc : Infinity, tokens: this.tokenRate ? 1 / this.tokenRate.inc : Infinity };
  }

  async tryTake(tokens: number): Promise<BudgetTake> {
    const share = this.pace.share();
    if (share !== this.share) {
      this.share = share;
      this.computeRates();
    }
    const cost = Math.max(0, Math.ceil(tokens));
    const outcome = await this.backend.take(this.deployment, {
      tokens: cost,
      ...(this.requests ? { requests: this.requests } : {}),
      ...(this.tokenRate ? { tokenRate: this.tokenRate } : {}),
      ...(this.maxConcurrency !== undefined ? { maxConcurrency: this.maxConcurrency } : {}),
    });
    if (!outcome.ok) return outcome;
    return { ok: true, grant: new BudgetGrant(this, cost, outcome.receipt) };
  }

  /**
   * Learns from an upstream's response headers; never waits, never throws. Only a report of a
   * budget running low is passed on: a plentiful one could not hold back the calls made before
   * the next report arrives, and skipping it spares shared backends a write per response (what a
   * low report taught fades by itself as the upstream's budget refills).
   */
  observe(headers: Record<string, string | string[] | undefined>): void {
    const report = readRateHeaders(headers);
    if (!report) return;
    this.adoptReportedLimits(report);
    if (isLow(report.requests) || isLow(report.tokens)) void this.backend.observe(this.deployment, report).catch(() => {});
  }

  /**
   * A configured limit above the one the upstream reports (OpenAI's x-ratelimit-limit-*,
   * Anthropic's anthropic-ratelimit-*-limit, sent with every answer) was a guess or is out of
   * date: the upstream's own figure paces the calls instead, spread the same way, so they stop
   * running into its 429s. Every node reads the same headers, so all of them adopt it. Only
   * configured budgets are tightened: one the operator left unlimited stays so (its upstream's
   * 429s and low reports still hold it back).
   */
  private adoptReportedLimits(report: UpstreamReport): void {
    const requests = report.requests?.limit || undefined;
    const tokens = report.tokens?.limit || undefined;
    if ((requests === undefined || requests === this.reported.requests) && (tokens === undefined || tokens === this.reported.tokens)) return;
    if (requests !== undefined) this.reported.requests = requests;
    if (tokens !== undefined) this.reported.tokens = tokens;
    this.computeRates();
  }

  /**
   * An upstream's 429 to a call made at `calledAt`: no call to it before `ms` (its Retry-After)
   * have passed, on any node, and a configured budget slows its pace, since the upstream allows
   * less than it says.
   */
  hold(ms: number, calledAt?: number): void {
    if (ms > 0) void this.backend.hold(this.deployment, ms).catch(() => {});
    if ((this.limits.rpm || this.limits.tpm) && this.pace.refused(calledAt)) {
      this.share = this.pace.share();
      this.computeRates();
    }
  }

  /** @internal BudgetGrant's settlement. */
  settle(charged: number, used: number | undefined, receipt: string): void {
    const tokenDelta = used === undefined || !this.tokenRate ? 0 : used - charged;
    void this.backend
      .settle(this.deployment, { tokenDelta, receipt, ...(this.tokenRate ? { tokenRate: this.tokenRate } : {}) })
      .catch(() => {})
      .then(this.onFree);
  }
}

/** At or below this share of its limit an upstream's budget is worth tracking. */
const LOW_SHARE = 0.1;

function isLow(seen: DimensionReport | undefined): boolean {
  if (!seen) return false;
  return seen.limit === undefined ? seen.remaining <= 0 : seen.remaining <= seen.limit * LOW_SHARE;
}

/** One call's share of a budget, held until the call ends (a stream: until its last chunk). */
export class BudgetGrant {
  private used: number | undefined;
  private released = false;

  constructor(
    readonly budget: DeploymentBudget,
    /** Tokens charged when it was taken. */
    readonly tokens: number,
    private readonly receipt: string,
  ) {}

  /** The upstream's real usage; without it the estimate stays charged (the strict side). */
  recordUsage(tokens: number): void {
    if (Number.isFinite(tokens) && tokens >= 0) this.used = tokens;
  }

  /** Ends the call: settles the tokens and frees its slot. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.settle(this.tokens, this.used, this.receipt);
  }
}
