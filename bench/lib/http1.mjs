// A deliberately small HTTP/1.1 keep-alive client for the load generator. The generator shares a
// core with the simulator, and a general-purpose client (undici, node:http) spends several times
// more CPU per request than this one, which at 5,000 req/s made the generator itself the
// bottleneck. It supports exactly what the benchmark needs: one request per connection at a time,
// a pre-encoded request, and responses framed by Content-Length or chunked encoding.
import net from 'node:net';
import { StringDecoder } from 'node:string_decoder';

const CRLF2 = Buffer.from('\r\n\r\n');

/** Encodes a POST once; every request of a run sends the same bytes. */
export function encodePost(url, headers, body) {
  const { hostname, port, pathname } = new URL(url);
  const payload = Buffer.from(body);
  const lines = [`POST ${pathname} HTTP/1.1`, `host: ${hostname}:${port}`, 'content-type: application/json', `content-length: ${payload.length}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`), payload]);
}

class Connection {
  constructor(pool) {
    this.pool = pool;
    this.socket = net.connect({ host: pool.host, port: pool.port });
    this.socket.setNoDelay(true);
    this.handlers = null;
    this.reset();
    this.socket.on('data', (chunk) => this.onData(chunk));
    this.socket.on('error', (error) => this.fail(error));
    this.socket.on('close', () => this.fail(Object.assign(new Error('connection closed'), { code: 'ECONNRESET' })));
  }

  reset() {
    this.head = null; // Buffer collected until the blank line after the headers
    this.status = 0;
    this.remaining = -1; // bytes of body left (Content-Length framing)
    this.chunked = false;
    this.chunkLeft = -1; // bytes left in the current chunk; -1 while reading a size line
    this.pendingLine = ''; // partial chunk-size line
    this.lastChunk = false;
    this.closeAfter = false;
    this.decoder = new StringDecoder('utf8');
  }

  send(bytes, handlers) {
    this.handlers = handlers;
    this.socket.write(bytes);
  }

  fail(error) {
    if (this.dead) return;
    this.dead = true;
    this.socket.destroy();
    this.pool.discard(this);
    const handlers = this.handlers;
    this.handlers = null;
    handlers?.onError(error);
  }

  onData(chunk) {
    if (!this.handlers) return this.fail(new Error('data with no request outstanding'));
    let body = chunk;
    if (this.status === 0) {
      this.head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
      const end = this.head.indexOf(CRLF2);
      if (end < 0) return;
      this.parseHead(this.head.toString('latin1', 0, end));
      body = this.head.subarray(end + 4);
      this.head = null;
      this.handlers.onHeaders?.(this.status);
    }
    if (this.chunked) this.readChunked(body);
    else this.readLength(body);
  }

  parseHead(text) {
    this.status = Number(text.slice(9, 12));
    const lower = text.toLowerCase();
    this.chunked = lower.includes('\r\ntransfer-encoding: chunked');
    const length = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    this.remaining = length ? Number(length[1]) : -1;
    this.closeAfter = lower.includes('\r\nconnection: close');
    if (!this.chunked && this.remaining < 0) this.fail(new Error('response without length'));
  }

  readLength(body) {
    if (body.length > 0) this.emit(body);
    this.remaining -= body.length;
    if (this.remaining === 0) this.finish();
    else if (this.remaining < 0) this.fail(new Error('more bytes than content-length'));
  }

  readChunked(body) {
    let at = 0;
    while (at < body.length) {
      if (this.chunkLeft < 0) {
        const eol = body.indexOf('\r\n', at, 'latin1');
        if (eol < 0) {
          this.pendingLine += body.toString('latin1', at);
          return;
        }
        const line = this.pendingLine + body.toString('latin1', at, eol);
        this.pendingLine = '';
        at = eol + 2;
        if (line === '') {
          // Either the CRLF that closes a chunk's data or, after the last chunk, the end of the
          // (always empty) trailer section.
          if (this.lastChunk) {
            this.finish();
            return;
          }
          continue;
        }
        const size = parseInt(line, 16);
        if (Number.isNaN(size)) return this.fail(new Error(`bad chunk size line "${line.slice(0, 20)}"`));
        if (size === 0) this.lastChunk = true;
        else this.chunkLeft = size;
      } else {
        const take = Math.min(this.chunkLeft, body.length - at);
        this.emit(body.subarray(at, at + take));
        at += take;
        this.chunkLeft -= take;
        if (this.chunkLeft === 0) this.chunkLeft = -1;
      }
    }
  }

  emit(bytes) {
    const text = this.decoder.write(bytes);
    if (text) this.handlers.onText(text);
  }

  finish() {
    const handlers = this.handlers;
    const status = this.status;
    this.handlers = null;
    const rest = this.decoder.end();
    if (rest) handlers.onText(rest);
    this.reset();
    if (this.closeAfter) {
      this.dead = true;
      this.socket.destroy();
      this.pool.discard(this);
    } else this.pool.release(this);
    handlers.onEnd(status);
  }
}

/**
 * Up to `connections` sockets; requests beyond that wait in a queue (in the open-loop test that
 * wait is part of the latency, as it would be for a real client with a connection limit).
 */
export class RawPool {
  constructor(url, connections) {
    const { hostname, port } = new URL(url);
    this.host = hostname;
    this.port = Number(port);
    this.max = connections;
    this.idle = [];
    this.count = 0;
    this.opened = 0;
    this.queue = [];
    this.queueHead = 0;
  }

  /** handlers: { onHeaders?(status), onText(text), onEnd(status), onError(error) } */
  request(bytes, handlers) {
    const connection = this.idle.pop() ?? (this.count < this.max ? this.open() : null);
    if (connection) connection.send(bytes, handlers);
    else this.queue.push([bytes, handlers]);
  }

  open() {
    this.count++;
    this.opened++;
    return new Connection(this);
  }

  release(connection) {
    if (this.queueHead < this.queue.length) {
      const [bytes, handlers] = this.queue[this.queueHead];
      this.queue[this.queueHead++] = undefined;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      connection.send(bytes, handlers);
    } else this.idle.push(connection);
  }

  discard(connection) {
    this.count--;
    const i = this.idle.indexOf(connection);
    if (i >= 0) this.idle.splice(i, 1);
    // A queued request takes the place of the lost connection.
    if (this.queueHead < this.queue.length) {
      const [bytes, handlers] = this.queue[this.queueHead];
      this.queue[this.queueHead++] = undefined;
      this.open().send(bytes, handlers);
    }
  }

  close() {
    for (const c of this.idle) {
      c.dead = true;
      c.socket.destroy();
    }
    this.idle = [];
  }
}
