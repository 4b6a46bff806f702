// POST /v1/embeddings.
import type { FastifyInstance } from 'fastify';
import type { EmbeddingRequest } from '../core/openai-types.js';
import type { PipelineDeps } from '../pipeline/chat.js';
import { runEmbeddings } from '../pipeline/embeddings.js';
import { embeddingSchema } from './schemas.js';
import { requestContext, type InFlight } from './context.js';
import { routeHeaders } from './headers.js';

export function embeddingRoutes(app: FastifyInstance, deps: PipelineDeps & { inflight: InFlight; totalTimeoutMs: number }): void {
  app.post<{ Body: EmbeddingRequest }>('/v1/embeddings', { schema: { body: embeddingSchema() } }, async (request, reply) => {
    request.routeModel = deps.catalog.get(request.body.model) ? request.body.model : 'unknown';
    const answer = await runEmbeddings(deps, request.body, requestContext(request, reply, deps.inflight, deps.totalTimeoutMs));
    reply.headers(routeHeaders(answer));
    return answer.response;
  });
}
