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
  close(): Promise<void>;
}

export async function startRecordingProxy(): Promise<RecordingProxy> {
  const proxy: RecordingProxy = { target: '', url: '', arrivals: [], extraHeaders: {}, close: async () => {} };
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST') proxy.arrivals.push(Date.now());
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
