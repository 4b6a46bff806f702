// POST /v1/chat/completions: thin; the pipeline does the work, this file only speaks HTTP: the
// route report as headers, and for streams the keep-alive comments while the first token is
// awaited (failover may take a while) and the error event when a started stream fails.
import type { FastifyInstance } from 'fastify';
import type { ChatCompletionRequest } from '../core/openai-types.js';
import { internalError } from '../core/errors.js';
import { runChat, type ChatReply, type PipelineDeps } from '../pipeline/chat.js';
import { chatCompletionSchema } from './schemas.js';
import { requestContext, type InFlight } from './context.js';
import { endWithErrorEvent, startStream, streamToClient } from './sse.js';
import { replyHeaders, routeHeaders } from './headers.js';

export interface ChatRouteDeps extends PipelineDeps {
  inflight: InFlight;
  maxMessages: number;
  keepaliveMs: number;
  totalTimeoutMs: number;
}

export function chatRoutes(app: FastifyInstance, deps: ChatRouteDeps): void {
  app.post<{ Body: ChatCompletionRequest }>(
    '/v1/chat/completions',
    { schema: { body: chatCompletionSchema({ maxMessages: deps.maxMessages }) } },
    async (request, reply) => {
      // Only configured names become metric labels: a bot inventing model names must not grow them.
      request.routeModel = deps.catalog.get(request.body.model) ? request.body.model : 'unknown';
      const ctx = requestContext(request, reply, deps.inflight, deps.totalTimeoutMs);
      if (request.body.stream !== true) {
        const answer = await runChat(deps, request.body, ctx);
        reply.headers(routeHeaders(answer));
        if (answer.kind === 'completion') return answer.completion;
        answer.chunks.cancel(); // an upstream that streamed unasked; adapters never return this
        throw internalError();
      }

      // Keep-alive comments while the route looks for a first token; once one is sent, the 200 is
      // committed and a failure becomes an error event.
      const stream = startStream(reply, request.id, deps.metrics.openStreams, deps.keepaliveMs);
      try {
        let answer: ChatReply;
        try {
          answer = await runChat(deps, request.body, ctx);
        } catch (error) {
          if (!stream.open) throw error;
          if (!reply.raw.destroyed) endWithErrorEvent(reply.raw, error);
          return reply;
        } finally {
          stream.stopKeepalive();
        }
        if (answer.kind !== 'stream') {
          // An upstream that answered a stream request whole; adapters never do, but a started
          // stream must still end honestly.
          if (!stream.open) throw internalError();
          endWithErrorEvent(reply.raw, internalError());
          return reply;
        }
        const headers = { ...replyHeaders(reply), 'x-request-id': request.id, ...routeHeaders(answer) };
        const result = await streamToClient(reply.raw, answer.chunks, headers, stream.takeOver, stream.open);
        if (result.error) request.log.warn({ code: result.error.code, deployment: answer.deployment }, 'stream ended with an error');
        return reply;
      } finally {
        stream.finish();
      }
    },
  );
}
