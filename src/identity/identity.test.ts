import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../core/errors.js';
import { ApiKeys, hashApiKey, newApiKey } from './api-keys.js';
import { Identifier, requireOwner } from './identity.js';
import { SessionTokens } from './session-tokens.js';

const SECRET = 'a-test-secret-that-is-at-least-32-characters';

describe('session tokens', () => {
  it('verifies what it issued, with the session id and expiry', () => {
    const tokens = new SessionTokens(SECRET, 3600, () => 1_000);
    const issued = tokens.issue();
    assert.match(issued.token, /^fgs_[0-9a-f]{32}\.4600\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(tokens.verify(issued.token), { ok: true, sessionId: issued.sessionId, expiresAt: 4600 });
  });

  it('refuses a token signed with another secret, a changed session id or a stretched expiry', () => {
    const ours = new SessionTokens(SECRET, 3600, () => 1_000);
    const theirs = new SessionTokens(`${SECRET}-other`, 3600, () => 1_000).issue().token;
    assert.deepEqual(ours.verify(theirs), { ok: false, reason: 'forged' });
    const token = ours.issue().token;
    const [id, expiry, signature] = token.slice(4).split('.') as [string, string, string];
    const otherId = `${id[0] === 'a' ? 'b' : 'a'}${id.slice(1)}`;
    assert.deepEqual(ours.verify(`fgs_${otherId}.${expiry}.${signature}`), { ok: false, reason: 'forged' });
    assert.deepEqual(ours.verify(`fgs_${id}.${Number(expiry) + 1}.${signature}`), { ok: false, reason: 'forged' });
  });

  it('refuses an expired token and a malformed one', () => {
    let now = 1_000;
    const tokens = new SessionTokens(SECRET, 60, () => now);
    const token = tokens.issue().token;
    now = 1_060;
    assert.deepEqual(tokens.verify(token), { ok: false, reason: 'expired' });
    assert.deepEqual(tokens.verify('fgs_nothing'), { ok: false, reason: 'malformed' });
    assert.deepEqual(tokens.verify(`${token}x`), { ok: false, reason: 'malformed' });
  });
});

describe('identify', () => {
  const key = newApiKey();
  const sessions = new SessionTokens(SECRET, 3600);
  const identifier = new Identifier(new ApiKeys([{ id: 'team-a', sha256: key.sha256, tier: 'pro' }]), sessions);
  const as = (authorization?: string) => identifier.identify({ headers: authorization === undefined ? {} : { authorization } });

  it('knows a configured key by its hash and never needs the key itself stored', () => {
    assert.equal(hashApiKey(key.key), key.sha256);
    assert.deepEqual(as(`Bearer ${key.key}`), { kind: 'api_key', owner: 'key:team-a', keyId: 'team-a', tier: 'pro' });
  });

  it('gives each session its own owner', () => {
    const a = sessions.issue();
    const b = sessions.issue();
    assert.deepEqual(as(`Bearer ${a.token}`), { kind: 'session', owner: `session:${a.sessionId}`, sessionId: a.sessionId });
    assert.notEqual(requireOwner(as(`Bearer ${a.token}`)), requireOwner(as(`Bearer ${b.token}`)));
  });

  it('treats no token and placeholder tokens as anonymous, which owns nothing', () => {
    for (const header of [undefined, 'Bearer anonymous', 'Bearer sk-no-key', 'Basic abc']) {
      const identity = as(header);
      assert.deepEqual(identity, { kind: 'anonymous' });
      assert.throws(() => requireOwner(identity), (e: unknown) => e instanceof GatewayError && e.status === 401 && e.code === 'session_required');
    }
  });

  it('refuses a forged or expired session token with a 401 that says what to do', () => {
    const forged = `fgs_${'0'.repeat(32)}.9999999999.${'A'.repeat(43)}`;
    assert.throws(() => as(`Bearer ${forged}`), (e: unknown) => e instanceof GatewayError && e.status === 401 && e.code === 'invalid_session' && /POST \/v1\/sessions/.test(e.message));
  });
});
