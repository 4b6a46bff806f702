// Small HTTP helpers for the simulator's node:http server.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomHex } from './rng.js';
import type { SimHttpError } from './openai-errors.js';

export const MAX_BODY_BYTES = 32 * 1024 * 1024;

export class BodyTooLargeError extends Error {}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// Request ids: a random per-process prefix plus a counter is unique and costs no randomness per request.
const requestIdPrefix = randomHex(16);
let requestCounter = 0;

export function nextRequestId(): string {
  requestCounter = (requestCounter + 1) % 0x1_0000_0000;
  return `req_${requestIdPrefix}${requestCounter.toString(16).padStart(16, '0')}`;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: SimHttpError, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  sendJson(res, error.status, error.body, { ...headers, ...error.headers });
}
