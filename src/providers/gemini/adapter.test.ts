// What the adapter puts on the wire that the simulator cannot observe for us: the exact path,
// and that the key travels in x-goog-api-key and never in the URL (where logs would keep it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { CancelSignal } from '../../core/cancel.js';
import { GatewayError } from '../../core/errors.js';
import { apiBasePath, gemini, modelResource } from './adapter.js';

let server: Server;
let origin: string;
const seen: Array<{ url: string; headers: IncomingHttpHeaders; body: unknown }> = [];
const transport = new Agent();

before(async () => {
  // Answers every call with one fixed Gemini body (or, for streams, a JSON body to be refused).
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ candidates: [{ content: { parts: [{ text: 'ok' }] }, finishReason: 'STOP' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await transport.close();
  await new Promise((resolve) => server.close(resolve));
});

function model(baseUrl: string, upstreamModel: string) {
  return gemini.create(
    { name: 'p', kind: 'gemini', baseUrl, apiKey: 'AIza-secret', headers: {}, timeouts: { connectMs: 1000, firstByteMs: 5000, idleMs: 5000 }, maxConnections: 4 },
    { name: 'dep-g', upstreamModel, headers: {} },
    transport,
  );
}

const ctx = () => ({ signal: new CancelSignal(), requestId: 'req-1' });

test('generateContent: POST {base}/v1beta/models/{model}:generateContent with the key in x-goog-api-key only', async () => {
  const outcome = await model(origin, 'gemini-flash-latest').chat({ model: 'public', messages: [{ role: 'user', content: 'Hi' }] }, ctx());
  assert.equal(outcome.kind, 'completion');
  const request = seen.at(-1)!;
  assert.equal(request.url, '/v1beta/models/gemini-flash-latest:generateContent');
  assert.equal(request.headers['x-goog-api-key'], 'AIza-secret');
  assert.equal(request.headers.authorization, undefined);
  assert.doesNotMatch(request.url, /key=/);
  assert.deepEqual(request.body, { contents: [{ role: 'user', parts: [{ text: 'Hi' }] }] });
});

test('streaming asks for alt=sse, and a body that is not an event stream is upstream_malformed', async () => {
  await assert.rejects(
    model(`${origin}/v1beta/`, 'models/gemini-x').chat({ model: 'public', stream: true, messages: [{ role: 'user', content: 'Hi' }] }, ctx()),
    (error: unknown) => error instanceof GatewayError && error.code === 'upstream_malformed',
  );
  assert.equal(seen.at(-1)!.url, '/v1beta/models/gemini-x:streamGenerateContent?alt=sse');
});

test('base paths and model resource names', () => {
  assert.equal(apiBasePath(''), '/v1beta');
  assert.equal(apiBasePath('/'), '/v1beta');
  assert.equal(apiBasePath('/v1beta/'), '/v1beta');
  assert.equal(apiBasePath('/v1'), '/v1');
  assert.equal(apiBasePath('/proxy/gemini'), '/proxy/gemini/v1beta');
  assert.equal(modelResource('gemini-2.5-flash'), 'models/gemini-2.5-flash');
  assert.equal(modelResource('tunedModels/my-model'), 'tunedModels/my-model');
  assert.equal(modelResource('sim-chat@fault=429:7'), 'models/sim-chat%40fault%3D429%3A7');
});
