// A TCP proxy in front of Redis that plays its failures for tests, on a port that stays the same:
// - freeze() / thaw(): connections stay open but nothing passes (held, not dropped), the way a
//   hung Redis or a black-holed network looks to a client; thawing delivers what was held;
// - stop() / start(): the listener closes and every connection drops (a Redis that died:
//   connections refused), then it listens again.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface RedisProxy {
  /** redis://127.0.0.1:<port>, the same across stop() and start(). */
  url: string;
  freeze(): void;
  thaw(): void;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** The same as stop(). */
  close(): Promise<void>;
}

export async function redisProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<RedisProxy> {
  let frozen = false;
  const held: Array<[Socket, Buffer]> = [];
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const pass = (to: Socket) => (data: Buffer) => {
    if (frozen) held.push([to, data]);
    else to.write(data);
  };
  const listen = async (): Promise<void> => {
    const listening = createServer((client) => {
      const upstream = connect(targetPort, targetHost);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => {
          sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', pass(upstream));
      upstream.on('data', pass(client));
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', resolve);
    });
    port = (listening.address() as { port: number }).port;
    server = listening;
  };
  const stop = async (): Promise<void> => {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  };
  await listen();
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void (frozen = true),
    thaw() {
      frozen = false;
      for (const [to, data] of held.splice(0)) if (!to.destroyed) to.write(data);
    },
    stop,
    start: listen,
    close: stop,
  };
}

/** A port with nothing listening (bound, then released). */
export async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
