// A TCP proxy in front of Redis that can go away and come back on the same port: stop() closes
// the listener and drops every connection (a Redis that died: connections refused), start()
// listens again. For a Redis that hangs instead, see history-tcp-proxy.ts (freeze).
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface SwitchableProxy {
  /** redis://127.0.0.1:<port>, the same across stop() and start(). */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function switchableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<SwitchableProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
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
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(port, '127.0.0.1', resolve);
    });
    port = (listening.address() as { port: number }).port;
    server = listening;
  };
  await listen();
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const closing = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start: listen,
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
