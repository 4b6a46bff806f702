// The Responses API: POST /v1/responses (streamed as OpenAI's typed events, or whole), GET and
// DELETE /v1/responses/{id}, and GET /v1/responses/{id}/input_items. The translation lives in
// responses/, the history and storage decisions in pipeline/responses.ts; this file speaks HTTP.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, internalError } from '../core/errors.js';
import { requireOwner } from '../identity/identity.js';
import { chunkIterator } from '../pipeline/chunk-iterator.js';
import { keepResponse, startResponse, type PreparedResponse, type ResponsesDeps } from '../pipeline/responses.js';
import {
  formatSseEvent, parseCreateResponse, responseEvents, streamErrorEvent, toResponse,
  type ResponseMeta, type ResponseObject, type ResponseRequest,
} from '../responses/index.js';
import { requestContext, type InFlight } from './context.js';
import { toGatewayError } from './error-reply.js';
import { routeHeaders } from './headers.js';
import { listEnvelope, parseListQuery } from './list-query.js';
import { startStream } from './sse.js';

/** How many history messages were left out to fit the model's context window (absent: none). */
export const CONTEXT_DROPPED_HEADER = 'x-floodgate-context-dropped';

export interface ResponsesRouteDeps extends ResponsesDeps {
  inflight: InFlight;
  keepaliveMs: number;
  totalTimeoutMs: number;
}

type IdParams = { Params: { id: string } };

export function responseRoutes(app: FastifyInstance, deps: ResponsesRouteDeps): void {
  app.post('/v1/responses', async (request, reply) => {
    const parsed = parseCreateResponse(request.body);
    // Floodgate fits long histories unless told not to: OpenAI's default, 'disabled', would
    // refuse a long chat outright, where dropping its oldest turns is what a chat app wants.
    if ((request.body as { truncation?: unknown }).truncation == null) parsed.truncation = 'auto';
    request.routeModel = deps.catalog.get(parsed.model) ? parsed.model : 'unknown';
    const ctx = requestContext(request, reply, deps.inflight, deps.totalTimeoutMs);
    if (!parsed.stream) {
      const prepared = await startResponse(deps, parsed, request.identity, ctx);
      if (prepared.reply.kind !== 'completion') {
        prepared.reply.chunks.cancel();
        throw internalError();
      }
      const response = toResponse(prepared.reply.completion, meta(prepared, parsed));
      await keepResponse(deps, prepared, parsed, response as unknown as Record<string, unknown>);
      reply.headers(answerHeaders(prepared));
      return response;
    }
    return streamResponse(deps, request, reply, parsed, ctx);
  });

  app.get<IdParams>('/v1/responses/:id', async (request) => {
    if ((request.query as { stream?: unknown }).stream === 'true') {
      throw new GatewayError('Resuming a response stream is not supported; retrieve the stored response without stream=true.', {
        status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param: 'stream',
      });
    }
    const row = await (await deps.history()).getResponse(requireOwner(request.identity), request.params.id);
    if (!row) throw responseNotFound(request.params.id);
    return row.body;
  });

  app.delete<IdParams>('/v1/responses/:id', async (request) => {
    const history = await deps.history();
    if (!(await history.deleteResponse(requireOwner(request.identity), request.params.id))) throw responseNotFound(request.params.id);
    return { id: request.params.id, object: 'response', deleted: true };
  });

  app.get<IdParams>('/v1/responses/:id/input_items', async (request) => {
    const owner = requireOwner(request.identity);
    const page = parseListQuery(request.query);
    const row = await (await deps.history()).getResponse(owner, request.params.id);
    if (!row) throw responseNotFound(request.params.id);
    // A response's own input is bounded by the request size: paged in memory.
    const items = row.inputItems as Array<{ id: string }>;
    const ordered = page.order === 'asc' ? items : [...items].reverse();
    const start = page.after === undefined ? 0 : ordered.findIndex((item) => item.id === page.after) + 1;
    const rest = page.after !== undefined && start === 0 ? [] : ordered.slice(start);
    return listEnvelope(rest.slice(0, page.limit), rest.length > page.limit);
  });

  app.post<IdParams>('/v1/responses/:id/cancel', async () => {
    throw new GatewayError('Only background responses can be cancelled, and this gateway does not run responses in the background.', {
      status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param: 'response_id',
    });
  });
}

async function streamResponse(
  deps: ResponsesRouteDeps, request: FastifyRequest, reply: FastifyReply, parsed: ResponseRequest, ctx: ReturnType<typeof requestContext>,
): Promise<FastifyReply> {
  const res = reply.raw;
  // As for chat: keep-alive comments while failover looks for a first token. Once one is sent,
  // the 200 is committed and a failure becomes the stream's last event.
  const stream = startStream(reply, request.id, deps.metrics.openStreams, deps.keepaliveMs);
  try {
    let prepared: PreparedResponse;
    try {
      prepared = await startResponse(deps, parsed, request.identity, ctx);
    } catch (error) {
      if (!stream.open) throw error;
      res.end(formatSseEvent(streamErrorEvent(toGatewayError(error), 0)));
      return reply;
    } finally {
      stream.stopKeepalive();
    }
    if (prepared.reply.kind !== 'stream') {
      if (!stream.open) throw internalError();
      res.end(formatSseEvent(streamErrorEvent(internalError(), 0)));
      return reply;
    }
    stream.commit(answerHeaders(prepared));
    const events = responseEvents(chunkIterator(prepared.reply.chunks), meta(prepared, parsed));
    for (;;) {
      const next = await events.next();
      if (next.done) break;
      const event = next.value;
      if (event.type === 'response.completed' || event.type === 'response.incomplete') {
        // The caller's success waits for the store: a turn the client saw complete is kept.
        try {
          await keepResponse(deps, prepared, parsed, event.response as unknown as Record<string, unknown>);
        } catch (error) {
          await events.return(event.response as ResponseObject);
          res.end(formatSseEvent(streamErrorEvent(toGatewayError(error), event.sequence_number)));
          return reply;
        }
      }
      if (res.destroyed) {
        // The client left: stop reading, which releases the upstream.
        await events.return(undefined as unknown as ResponseObject);
        return reply;
      }
      if (!res.write(formatSseEvent(event))) await drainedOrClosed(res);
    }
    res.end();
    return reply;
  } finally {
    stream.finish();
  }
}

/** Waits until the client has taken what was written, or has gone; leaves no listener behind. */
function drainedOrClosed(res: FastifyReply['raw']): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

function meta(prepared: PreparedResponse, request: ResponseRequest): ResponseMeta {
  // `store` is echoed as it was applied: an anonymous caller's response is not stored.
  return { id: prepared.id, createdAt: prepared.createdAt, model: prepared.reply.model, request: { ...request, store: prepared.store } };
}

function answerHeaders(prepared: PreparedResponse): Record<string, string> {
  const headers = routeHeaders(prepared.reply);
  if (prepared.droppedMessages > 0) headers[CONTEXT_DROPPED_HEADER] = String(prepared.droppedMessages);
  return headers;
}

function responseNotFound(id: string): GatewayError {
  return new GatewayError(`Response with id '${id.slice(0, 100)}' not found.`, {
    status: 404, type: 'invalid_request_error', code: 'not_found', param: 'response_id',
  });
}
