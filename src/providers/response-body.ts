// Reading an upstream's response body safely, for any adapter: error bodies are read up to a
// limit (a broken upstream must not make us buffer megabytes to build an error message), and a
// JSON body that does not parse is the upstream's fault (upstream_malformed), not ours.
import type { Dispatcher } from 'undici';
import { fromTransportError, isAbort, malformedUpstream } from './upstream-errors.js';

export const ERROR_BODY_LIMIT = 64 * 1024;

/** The parsed error body, or undefined when it is not JSON or larger than `limit` bytes. */
export async function readErrorBody(body: Dispatcher.ResponseData['body'], limit = ERROR_BODY_LIMIT): Promise<unknown> {
  const parts: Buffer[] = [];
  let size = 0;
  try {
    for await (const part of body) {
      size += (part as Buffer).length;
      if (size > limit) {
        body.destroy();
        return undefined;
      }
      parts.push(part as Buffer);
    }
    return JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** A successful response's JSON body; transport failures and bad JSON become GatewayErrors. */
export async function readJsonBody(response: Dispatcher.ResponseData, deployment: string): Promise<unknown> {
  try {
    return await response.body.json();
  } catch (error) {
    if (isAbort(error)) throw error;
    if (error instanceof SyntaxError) throw malformedUpstream(deployment, 'a body that is not valid JSON');
    throw fromTransportError(deployment, error);
  }
}
