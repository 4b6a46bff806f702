// POST /v1/chat/completions: thin; the pipeline does the work, this file only speaks HTTP.
import type { FastifyInstance } from 'fastify';
import type { ChatCompletionRequest } from '../core/openai-types.js';
import { runChat, type PipelineDeps } from '../pipeline/chat.js';
import { chatCompletionSchema } from './schemas.js';
import { requestContext } from './context.js';
import { writeSSE, type StreamTracker } from './sse.js';
import { DEPLOYMENT_HEADER } from './headers.js';

export function chatRoutes(app: FastifyInstance, deps: PipelineDeps & { streams: StreamTracker; maxMessages: number }): void {
  app.post<{ Body: ChatCompletionRequest }>(
    '/v1/chat/completions',
    { schema: { body: chatCompletionSchema({ maxMessages: deps.maxMessages }) } },
    async (request, reply) => {
      request.routeModel = request.body.model;
      const ctx = requestContext(request, reply);
      const answer = await runChat(deps, request.body, ctx);
      reply.header(DEPLOYMENT_HEADER, answer.deployment);
      if (answer.kind === 'completion') return answer.completion;

      // Pull the first chunk before sending headers: until then a failure is still a plain JSON error.
      const iterator = answer.chunks[Symbol.asyncIterator]();
      const first = await iterator.next();
      reply.hijack();
      const headers = { 'x-request-id': request.id, [DEPLOYMENT_HEADER]: answer.deployment };
      if (first.done) {
        // An upstream that sent [DONE] and nothing else: still a valid, empty stream.
        reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', ...headers });
        reply.raw.end('data: [DONE]\n\n');
        return reply;
      }
      deps.metrics.openStreams.inc();
      try {
        const result = await writeSSE(reply.raw, headers, first.value, iterator, deps.streams, ctx.controller);
        if (result.error) request.log.warn({ code: result.error.code, deployment: answer.deployment }, 'stream ended with an error');
      } finally {
        deps.metrics.openStreams.dec();
      }
      return reply;
    },
  );
}
