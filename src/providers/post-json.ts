// The one HTTP call every adapter makes: POST a JSON body over the provider's keep-alive pool,
// with the request's id and cancellation, turning transport failures and error statuses into
// GatewayErrors (each format reads its own error body; OpenAI's reader is the default).
import type { Dispatcher } from 'undici';
import type { GatewayError } from '../core/errors.js';
import type { CallContext } from './types.js';
import { readErrorBody } from './response-body.js';
import { fromTransportError, fromUpstreamStatus } from './upstream-errors.js';

export interface Upstream {
  deployment: string;
  transport: Dispatcher;
  origin: string;
  headers: Record<string, string>;
}

type StatusMapper = (deployment: string, status: number, headers: Dispatcher.ResponseData['headers'], body: unknown) => GatewayError;

export async function postJson(
  upstream: Upstream,
  path: string,
  body: unknown,
  ctx: CallContext,
  fromStatus: StatusMapper = fromUpstreamStatus,
): Promise<Dispatcher.ResponseData> {
  let response: Dispatcher.ResponseData;
  try {
    response = await upstream.transport.request({
      origin: upstream.origin,
      path,
      method: 'POST',
      headers: { ...upstream.headers, 'x-request-id': ctx.requestId },
      body: JSON.stringify(body),
      signal: ctx.signal,
    });
  } catch (error) {
    throw fromTransportError(upstream.deployment, error);
  }
  ctx.onResponseHeaders?.(response.headers);
  if (response.statusCode >= 400) {
    throw fromStatus(upstream.deployment, response.statusCode, response.headers, await readErrorBody(response.body));
  }
  return response;
}
