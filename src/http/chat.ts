// POST /v1/chat/completions: thin; the pipeline does the work, this file only speaks HTTP.
import type { FastifyInstance } from 'fastify';
import type { ChatCompletionRequest } from '../core/openai-types.js';
import { runChat, type PipelineDeps } from '../pipeline/chat.js';
import { chatCompletionSchema } from './schemas.js';
import { requestContext, type InFlight } from './context.js';
import { streamToClient } from './sse.js';
import { DEPLOYMENT_HEADER } from './headers.js';

export function chatRoutes(app: FastifyInstance, deps: PipelineDeps & { inflight: InFlight; maxMessages: number }): void {
  app.post<{ Body: ChatCompletionRequest }>(
    '/v1/chat/completions',
    { schema: { body: chatCompletionSchema({ maxMessages: deps.maxMessages }) } },
    async (request, reply) => {
      // Only configured names become metric labels: a bot inventing model names must not grow them.
      request.routeModel = deps.catalog.get(request.body.model) ? request.body.model : 'unknown';
      const ctx = requestContext(request, reply, deps.inflight);
      const answer = await runChat(deps, request.body, ctx);
      reply.header(DEPLOYMENT_HEADER, answer.deployment);
      if (answer.kind === 'completion') return answer.completion;

      const headers = { 'x-request-id': request.id, [DEPLOYMENT_HEADER]: answer.deployment };
      let open = false;
      try {
        const result = await streamToClient(reply.raw, answer.chunks, headers, () => {
          reply.hijack();
          open = true;
          deps.metrics.openStreams.inc();
        });
        if (result.error) request.log.warn({ code: result.error.code, deployment: answer.deployment }, 'stream ended with an error');
      } finally {
        if (open) deps.metrics.openStreams.dec();
      }
      return reply;
    },
  );
}
