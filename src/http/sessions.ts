// POST /v1/sessions: an anonymous caller's identity for stored state. The token goes where an API
// key would (Authorization: Bearer, or the openai SDK's apiKey), and whatever the caller stores
// with it (conversations, responses) is reachable with that token only.
import type { FastifyInstance } from 'fastify';
import type { SessionTokens } from '../identity/session-tokens.js';

export function sessionRoutes(app: FastifyInstance, sessions: SessionTokens): void {
  app.post('/v1/sessions', async () => {
    const issued = sessions.issue();
    return { object: 'session', token: issued.token, expires_at: issued.expiresAt };
  });
}
