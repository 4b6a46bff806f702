// Client limits at the door: one decision per request from the rate limiter (requests, tokens,
// concurrency and daily quotas of the caller's tier, all or nothing), OpenAI's x-ratelimit-*
// headers on every answer, a 429 that names the limit and when to come back, and, when the
// request is over, its concurrency slot freed and its token reservation settled against what the
// upstream really used.
//
// It runs in preValidation: after the body is read (the token estimate needs it) and before it is
// checked, so a bot looping the same malformed request spends its budget like anyone else (a
// body that does not even parse reaches it too: see UnreadableBody in json-body.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TierConfig } from '../config/config.js';
import { ClientAddresses } from '../identity/client-address.js';
import type { Identity } from '../identity/identity.js';
import type { Admission, LimitName, RateLimiter } from '../limits/types.js';
import { estimateTokens } from '../pipeline/token-estimate.js';
import { rateLimitError, rateLimitHeaders } from '../limits/headers.js';

export interface ClientLimitsDeps {
  limiter: RateLimiter;
  addresses: ClientAddresses;
  tiers: Readonly<Record<string, TierConfig>>;
  /** Routes that are never limited (health, metrics). */
  exempt: ReadonlySet<string>;
  onRefused?: (limit: LimitName, tier: string) => void;
}

/** Who is limited, and by which tier: a key by its own budget, everyone else by address. */
function limitedAs(identity: Identity | null, peer: string | undefined, headers: FastifyRequest['headers'], addresses: ClientAddresses): { identity: string; tier: string } {
  if (identity?.kind === 'api_key') return { identity: `key:${identity.keyId}`, tier: identity.tier };
  return { identity: addresses.limitKey(addresses.resolve(peer, headers)), tier: 'anonymous' };
}

export function clientLimits(fastify: FastifyInstance, deps: ClientLimitsDeps): void {
  let warnedProxy = false;
  fastify.addHook('preValidation', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    if (deps.exempt.has(route)) return;
    const peer = request.raw.socket.remoteAddress;
    // Behind a proxy that is not listed as trusted, every keyless caller has the proxy's address
    // and all of them share one free-tier budget: say so once, loudly.
    if (!warnedProxy && deps.addresses.size === 0 && request.identity?.kind !== 'api_key' && forwarded(request.headers)) {
      warnedProxy = true;
      request.log.warn({ peer }, 'a keyless request carried X-Forwarded-For or Forwarded, but limits.trusted_proxies is empty: if a proxy sits in front of Floodgate, every keyless caller behind it shares one budget; list the proxy there');
    }
    const who = limitedAs(request.identity, peer, request.headers, deps.addresses);
    // Config checks that every key's tier exists; anonymous always does.
    const limits = deps.tiers[who.tier] ?? deps.tiers.anonymous!;
    request.client = { key: who.identity, priority: limits.priority };
    // Tokens are estimated only when a token limit applies to this caller.
    const needsTokens = limits.tpm !== undefined || limits.daily_tokens !== undefined;
    const estimatedTokens = needsTokens ? estimateOrZero(route, request.body) : 0;
    const asked = { identity: who.identity, limits, estimatedTokens };
    const decision = await deps.limiter.decide(asked);
    reply.headers(rateLimitHeaders(decision.budgets));
    if (!decision.allowed) {
      deps.onRefused?.(decision.limit, who.tier);
      throw rateLimitError(decision, asked);
    }
    settleWhenDone(request, reply, decision.admission);
  });
}

/** A body too odd to size (its route's schema refuses it next) reserves nothing. */
function estimateOrZero(route: string, body: unknown): number {
  try {
    return estimateTokens(route, body);
  } catch {
    return 0;
  }
}

const forwarded = (headers: FastifyRequest['headers']): boolean => headers['x-forwarded-for'] !== undefined || headers.forwarded !== undefined;

/** Frees the slot and settles the tokens once the request is over and its usage is known. */
function settleWhenDone(request: FastifyRequest, reply: FastifyReply, admission: Admission): void {
  const settle = (): void => {
    // The next turn: a stream cut short adds its partial usage to the meter only then.
    setImmediate(() => {
      void admission.release();
      const meter = request.meter;
      void (meter ? meter.settled() : Promise.resolve()).then(() => {
        // What the upstream reported replaces the estimate. An answer that came without any
        // usage keeps the estimate charged (strict when unknown); a request that reached no
        // upstream, or failed, used nothing and gets it back. One turned away for want of
        // upstream capacity does not count against the day's quota either.
        if (meter?.deployment !== undefined) return admission.reconcile(meter.promptTokens + meter.completionTokens);
        if (meter?.turnedAway) return admission.reconcile(0, { unserved: true });
        if (reply.raw.statusCode >= 400 || !meter) return admission.reconcile(0);
        return undefined;
      });
    });
  };
  // A client gone while the decision was awaited will not emit 'close' again.
  if (reply.raw.destroyed) settle();
  else reply.raw.once('close', settle);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller as the limits and the waiting queue see it (set once the request is admitted). */
    client: { key: string; priority: number } | undefined;
  }
}
