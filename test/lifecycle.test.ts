// The gateway as a real process: SIGTERM drains it, a client that leaves cancels its upstream call.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startSimulator } from '../src/simulator/index.js';

let simulator: Awaited<ReturnType<typeof startSimulator>>;

before(async () => {
  simulator = await startSimulator({ host: '127.0.0.1', port: 0, pacing: 'instant' });
});
after(async () => simulator.close());

/** Starts `floodgate serve` with a config whose slow model streams 20 chunks 100 ms apart. */
async function startGatewayProcess(graceMs: number): Promise<{ child: ChildProcess; url: string; exit: Promise<number | null>; output: () => string }> {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-life-'));
  const config = join(dir, 'floodgate.yaml');
  writeFileSync(config, `
server: { shutdown_grace_ms: ${graceMs} }
limits: { tiers: { anonymous: {} } }
overload: { enabled: false }
providers:
  sim: { base_url: "${simulator.url}", api_key: "sk-floodgate-test-secret" }
deployments:
  slow-a: { provider: sim, model: sim-chat, headers: { x-sim-ttft-ms: "50", x-sim-tps: "10", x-sim-tokens: "20" } }
  broken-a: { provider: sim, model: sim-chat, headers: { x-sim-fault: "reset" } }
  stalled-a: { provider: sim, model: sim-chat, headers: { x-sim-ttft-ms: "30000" } }
models:
  slow: { deployments: [slow-a], context_length: 16384 }
  stalled: { deployments: [stalled-a], context_length: 16384 }
  broken: { deployments: [broken-a], context_length: 16384 }
`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', 'serve', '--config', config, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: 'info' },
  });
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  let logs = '';
  child.stdout!.on('data', (data: Buffer) => (logs += data.toString()));
  let banner = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (data: Buffer) => {
      banner += data.toString();
      const found = /listening on (http:\/\/[^\s/]+)/.exec(banner);
      if (found) resolve(found[1]!);
    });
    void exit.then(() => reject(new Error(`gateway exited early:\n${banner}`)));
  });
  return { child, url, exit, output: () => banner + logs };
}

async function openStream(url: string) {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.statusCode, 200);
  return res;
}

describe('graceful shutdown on SIGTERM', () => {
  test('readiness turns false, new requests get 503, the open stream finishes, the process exits 0', async () => {
    const { child, url, exit } = await startGatewayProcess(10_000);
    const stream = await openStream(url);
    const body = stream.body.text();
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));

    const ready = await request(`${url}/readyz`);
    assert.equal(ready.statusCode, 503);
    await ready.body.dump();
    const refused = await request(`${url}/v1/models`);
    assert.equal(refused.statusCode, 503);
    const refusal = (await refused.body.json()) as { error: { code: string } };
    assert.equal(refusal.error.code, 'shutting_down');

    const text = await body;
    assert.ok(text.trimEnd().endsWith('data: [DONE]'), 'the stream that was open when SIGTERM came completes');
    assert.equal((text.match(/^data: \{/gm) ?? []).length >= 20, true);
    assert.equal(await exit, 0);
  });

  test('a stream still open at the deadline ends with an error event, not a clean end', async () => {
    const { child, url, exit } = await startGatewayProcess(300);
    const stream = await openStream(url);
    const body = stream.body.text();
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const text = await body;
    assert.ok(!text.includes('[DONE]'));
    const last = text.trim().split('\n\n').at(-1)!;
    const event = JSON.parse(last.replace(/^data: /, '')) as { error: { code: string; type: string } };
    assert.equal(event.error.code, 'shutting_down');
    assert.equal(await exit, 0);
  });
  test('a non-streaming request still waiting at the deadline gets a 503, so the process exits on time', async () => {
    const { child, url, exit } = await startGatewayProcess(300);
    const pending = request(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'stalled', messages: [{ role: 'user', content: 'hi' }] }),
    }).then(async (res) => ({ status: res.statusCode, body: (await res.body.json()) as { error: { code: string } } }));
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    assert.equal(await exit, 0);
    // Had shutdown waited for the upstream, the request would have been answered after 30 s.
    const reply = await pending;
    assert.equal(reply.status, 503);
    assert.equal(reply.body.error.code, 'shutting_down');
  });
});

describe('client disconnect', () => {
  test('closing the client connection mid-stream aborts the upstream call at once', async () => {
    const { child, url, exit } = await startGatewayProcess(1000);
    try {
      const controller = new AbortController();
      const res = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
        signal: controller.signal,
      });
      const reader = res.body[Symbol.asyncIterator]();
      await reader.next();
      assert.ok(simulator.openStreams() >= 1, 'the upstream stream is open');
      controller.abort();
      await reader.return?.();
      const deadline = Date.now() + 2000;
      while (simulator.openStreams() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(simulator.openStreams(), 0, 'the simulator saw its client go away');
      const metrics = await (await request(`${url}/metrics`)).body.text();
      assert.match(metrics, /floodgate_upstream_requests_total\{deployment="slow-a",outcome="aborted"\} 1/);
    } finally {
      child.kill('SIGTERM');
      await exit;
    }
  });

  test('closing the client connection while a non-streaming answer is pending aborts the upstream call', async () => {
    const { child, url, exit } = await startGatewayProcess(1000);
    try {
      const controller = new AbortController();
      const pending = request(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'stalled', messages: [{ role: 'user', content: 'hi' }] }),
        signal: controller.signal,
      });
      await new Promise((r) => setTimeout(r, 300));
      controller.abort();
      await assert.rejects(pending);
      const aborted = /floodgate_upstream_requests_total\{deployment="stalled-a",outcome="aborted"\} 1/;
      let text = '';
      const deadline = Date.now() + 1000;
      while (!aborted.test(text) && Date.now() < deadline) {
        text = await (await request(`${url}/metrics`)).body.text();
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.match(text, aborted, 'the upstream request was aborted within a second, not left for 30 s');
    } finally {
      child.kill('SIGTERM');
      await exit;
    }
  });
});

test('logs and error replies name deployments, never upstream keys or URLs', async () => {
  const { child, url, exit, output } = await startGatewayProcess(1000);
  const reply = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'broken', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = await reply.body.text();
  assert.equal(reply.statusCode, 502);
  assert.match(body, /broken-a/);
  child.kill('SIGTERM');
  await exit;
  const logs = output();
  assert.match(logs, /"route":"\/v1\/chat\/completions","status":502/, 'the failed request was logged');
  assert.match(logs, /broken-a/);
  const { port } = new URL(simulator.url);
  for (const text of [body, logs]) {
    assert.ok(!text.includes('sk-floodgate-test-secret'), 'no upstream key');
    assert.ok(!text.includes(`:${port}`), 'no upstream address');
  }
});
