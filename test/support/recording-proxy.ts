// A transparent HTTP proxy in front of the simulator that notes when each call arrived, so tests
// can see what an upstream sees: how many calls, and how far apart.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordingProxy {
  /** The simulator's base URL (ending in /v1), set once it is known. */
  target: string;
  /** Base URL to configure as the provider's, ending in /v1. */
  url: string;
  /** Arrival times (ms) of calls to POST paths. */
  arrivals: number[];
  /** Added to every answer, as an upstream's own rate-limit headers would be. */
  extraHeaders: Record<string, string>;
  /** The next `count` calls are answered 429 with this Retry-After, as OpenAI answers them. */
  refuse: { count: number; retryAfterSeconds: number };
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const proxy: RecordingProxy = { target: '', url: '', arrivals: [], extraHeaders: {}, refuse: { count: 0, retryAfterSeconds: 1 }, close: async () => {} };
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST') proxy.arrivals.push(Date.now());
    if (req.method === 'POST' && proxy.refuse.count > 0) {
      proxy.refuse.count -= 1;
      req.resume();
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(proxy.refuse.retryAfterSeconds) });
      res.end(JSON.stringify({ error: { message: 'Rate limit reached for requests.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
      return;
    }
    const target = new URL(proxy.target);
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: `${target.pathname.replace(/\/v1$/, '')}${req.url ?? '/'}`, headers: req.headers },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, { ...reply.headers, ...proxy.extraHeaders });
        reply.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return proxy;
}

/** Gaps between consecutive arrivals, in ms. */
export function gaps(arrivals: readonly number[]): number[] {
  const sorted = [...arrivals].sort((a, b) => a - b);
  return sorted.slice(1).map((t, i) => t - sorted[i]!);
}
