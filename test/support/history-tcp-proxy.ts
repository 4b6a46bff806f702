// A TCP proxy that can freeze: connections stay open but nothing passes (held, not dropped), the
// way a hung Redis or a black-holed network looks to a client. Thawing delivers what was held.
import { connect, createServer, type Socket } from 'node:net';

export interface FreezableProxy {
  /** redis://127.0.0.1:<port> */
  url: string;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

export async function freezableProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<FreezableProxy> {
  let frozen = false;
  const held: Array<[Socket, Buffer]> = [];
  const sockets = new Set<Socket>();
  const pass = (to: Socket) => (data: Buffer) => {
    if (frozen) held.push([to, data]);
    else to.write(data);
  };
  const server = createServer((client) => {
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
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void (frozen = true),
    thaw() {
      frozen = false;
      for (const [to, data] of held.splice(0)) if (!to.destroyed) to.write(data);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
