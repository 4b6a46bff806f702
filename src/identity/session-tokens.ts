// Anonymous callers get a server-issued session token (POST /v1/sessions) so that what they store
// (conversations, responses) belongs to someone. The token is stateless: a random session id and
// an expiry, signed with HMAC-SHA256 under a secret every node shares. So any node can verify any
// token without a database round trip, and nobody can forge or guess another caller's session.
//
//   fgs_<session id: 32 hex>.<expiry: epoch seconds>.<signature: 43 base64url>
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_PREFIX = 'fgs_';
const SHAPE = /^fgs_([0-9a-f]{32})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

export interface IssuedSession {
  token: string;
  sessionId: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export type SessionCheck =
  | { ok: true; sessionId: string; expiresAt: number }
  | { ok: false; reason: 'malformed' | 'forged' | 'expired' };

export class SessionTokens {
  constructor(
    private readonly secret: string,
    private readonly ttlSeconds: number,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {}

  issue(): IssuedSession {
    const sessionId = randomBytes(16).toString('hex');
    const expiresAt = this.nowSeconds() + this.ttlSeconds;
    const signed = `${sessionId}.${expiresAt}`;
    return { token: `${SESSION_PREFIX}${signed}.${this.sign(signed)}`, sessionId, expiresAt };
  }

  verify(token: string): SessionCheck {
    const match = SHAPE.exec(token);
    if (!match) return { ok: false, reason: 'malformed' };
    const [, sessionId, expiry, signature] = match as unknown as [string, string, string, string];
    const expected = Buffer.from(this.sign(`${sessionId}.${expiry}`));
    // Constant time, so the signature cannot be learned byte by byte from response timings.
    if (!timingSafeEqual(expected, Buffer.from(signature))) return { ok: false, reason: 'forged' };
    const expiresAt = Number(expiry);
    if (expiresAt <= this.nowSeconds()) return { ok: false, reason: 'expired' };
    return { ok: true, sessionId, expiresAt };
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}
