// A chat completion chunk stream -> OpenAI's Responses event stream: response.created and
// response.in_progress, then each output item's added / delta / done events, then
// response.completed (or response.incomplete when the answer was cut), numbered from 0.
//
// Items are closed (their .done events) only when the upstream has finished: chat chunks may
// interleave text and tool-call deltas, so no item is final before the last chunk.
//
// When the upstream breaks part-way, the stream ends with two events:
//  1. `response.failed`, carrying the failed Response (status failed, error {code, message}, the
//     output so far marked incomplete). It is what OpenAI sends and what the caller stores; the
//     SDK's responses.stream() takes it as its snapshot.
//  2. `error`, with the spec's top-level code/message/param AND a nested `error` object. The
//     nested object is the point: openai-node's Stream (core/streaming.ts) throws an APIError for
//     any event whose data has a truthy `error` key (openai-python does the same), while an event
//     with only the spec's top-level fields is yielded like any other and a response.failed alone
//     throws nothing. So `for await (const e of await client.responses.create({stream: true}))`
//     sees response.failed, then throws; responses.stream()'s finalResponse() rejects with that
//     APIError instead of resolving to a half-written answer. Clients that switch on event types
//     see both events. Nothing is ever closed as completed.
import { GatewayError, internalError } from '../core/errors.js';
import type { ChatCompletionChunk, FinishReason, Usage } from '../core/openai-types.js';
import { failedResponse, finishedResponse, inProgressResponse, type ResponseMeta } from './response.js';
import { OutputAssembler, type EventBody } from './stream-output.js';
import type { ResponseObject, ResponseStreamEvent } from './types.js';

/**
 * Yields the events for `chunks`; returns the final Response (completed, incomplete or failed),
 * the same object the last event carries, for the caller to store. Stopping early (return())
 * stops reading `chunks`, which releases the upstream.
 */
export async function* responseEvents(chunks: AsyncIterable<ChatCompletionChunk>, meta: ResponseMeta): AsyncGenerator<ResponseStreamEvent, ResponseObject> {
  let sequence = 0;
  const numbered = (body: EventBody): ResponseStreamEvent => ({ ...body, sequence_number: sequence++ }) as ResponseStreamEvent;
  const output = new OutputAssembler(meta.id);

  yield numbered({ type: 'response.created', response: inProgressResponse(meta) });
  yield numbered({ type: 'response.in_progress', response: inProgressResponse(meta) });

  let finish: FinishReason | null = null;
  let usage: Usage | null | undefined;
  try {
    for await (const chunk of chunks) {
      if (chunk.usage) usage = chunk.usage;
      // Responses has no `n`: only the first choice is an answer.
      const choice = chunk.choices.find((c) => c.index === 0);
      if (!choice) continue;
      for (const event of output.apply(choice.delta, choice.logprobs)) yield numbered(event);
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  } catch (error) {
    // Anything but a GatewayError is a bug or an abort; its message is not the client's to read.
    const failure = error instanceof GatewayError ? error : internalError();
    const failed = failedResponse(meta, failure, output.drafts);
    yield numbered({ type: 'response.failed', response: failed });
    yield numbered(errorEvent(failure));
    return failed;
  }

  const final = finishedResponse(meta, output.drafts, finish, usage);
  const itemStatus = final.status === 'incomplete' ? 'incomplete' : 'completed';
  for (const event of output.close(itemStatus)) yield numbered(event);
  yield numbered({ type: final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', response: final });
  return final;
}

function errorEvent(failure: GatewayError): EventBody {
  const { error } = failure.toBody();
  return { type: 'error', code: error.code, message: error.message, param: error.param, error };
}

/** A stream's last event when it fails outside the translation (before the answer, or storing it). */
export function streamErrorEvent(failure: GatewayError, sequenceNumber: number): ResponseStreamEvent {
  return { ...errorEvent(failure), sequence_number: sequenceNumber } as ResponseStreamEvent;
}

/** One event as SSE. Responses streams name every event and end without `[DONE]`. */
export function formatSseEvent(event: ResponseStreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
