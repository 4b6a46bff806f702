// Who is calling: an API key from the configuration, a session token this gateway issued, or
// nobody in particular. Stateless endpoints (chat, embeddings, models) serve all three; endpoints
// that keep state (conversations, stored responses) need an owner, and every row they touch is
// scoped by it, so one caller can never list, read or change another's.
//
// A bearer token that is neither (the openai SDK insists on *some* key, so anonymous callers send
// placeholders like "anonymous" or "sk-no-key") is anonymous: it names nobody, because two
// strangers may well pick the same placeholder. A session token that fails its signature or has
// expired is refused outright, so a caller learns at once that its stored state is out of reach.
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { ApiKeys } from './api-keys.js';
import { SESSION_PREFIX, type SessionTokens } from './session-tokens.js';

export type Identity =
  | { kind: 'api_key'; owner: string; keyId: string; tier: string }
  | { kind: 'session'; owner: string; sessionId: string }
  | { kind: 'anonymous' };

export class Identifier {
  constructor(
    private readonly keys: ApiKeys,
    readonly sessions: SessionTokens,
  ) {}

  identify(request: Pick<FastifyRequest, 'headers'>): Identity {
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) return { kind: 'anonymous' };
    const key = this.keys.find(token);
    if (key) return { kind: 'api_key', owner: `key:${key.id}`, keyId: key.id, tier: key.tier };
    if (token.startsWith(SESSION_PREFIX)) {
      const check = this.sessions.verify(token);
      if (!check.ok) throw invalidSession(check.reason);
      return { kind: 'session', owner: `session:${check.sessionId}`, sessionId: check.sessionId };
    }
    return { kind: 'anonymous' };
  }
}

/** The owner of stored state, or a 401 that says how to become one. */
export function requireOwner(identity: Identity): string {
  if (identity.kind !== 'anonymous') return identity.owner;
  throw new GatewayError(
    'This endpoint keeps data per caller, so it needs to know who you are: send an API key, or a session token from POST /v1/sessions, as the bearer token (Authorization: Bearer ...).',
    { status: 401, type: 'invalid_request_error', code: 'session_required' },
  );
}

function invalidSession(reason: 'malformed' | 'forged' | 'expired'): GatewayError {
  const why = reason === 'expired' ? 'has expired' : 'is not valid';
  return new GatewayError(`The session token ${why}. Get a new one with POST /v1/sessions; what was stored under the old token cannot be reached with a new one.`, {
    status: 401, type: 'invalid_request_error', code: reason === 'expired' ? 'session_expired' : 'invalid_session',
  });
}

function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
