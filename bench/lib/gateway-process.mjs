// One gateway child process on the proxy core for a bench phase: `serve --config`, ready once
// /readyz answers (not a chat request, which would already count as an upstream call), stopped
// with SIGTERM so it drains like a real deployment.
import { writeFileSync } from 'node:fs';
import { request } from 'undici';
import { startChild, stopChild, waitUntil } from './procs.mjs';
import { PROXY_CORE } from './targets.mjs';

export async function startGatewayProcess(ctx, { configPath, configText, logFile }) {
  writeFileSync(configPath, configText);
  // info, for the breaker transitions (access_log is off, so there are few lines).
  const record = startChild(
    'floodgate',
    ['node', ctx.opts.entry, 'serve', '--config', configPath, '--host', '127.0.0.1', '--port', String(ctx.ports.gateway)],
    { core: PROXY_CORE, nofile: ctx.nofile, env: { LOG_LEVEL: 'info' }, logFile },
  );
  const url = `http://127.0.0.1:${ctx.ports.gateway}`;
  await waitUntil(record, async () => {
    const response = await request(`${url}/readyz`);
    await response.body.dump();
    return response.statusCode === 200;
  });
  return {
    record,
    url,
    logFile,
    configPath,
    stop: async () => {
      await stopChild(record, { signal: 'SIGTERM', graceMs: 10_000 });
      return record.code === 0 || record.code === 'SIGTERM' ? undefined : `gateway exited with ${record.code}: ${record.tail.slice(-5).join(' | ')}`;
    },
  };
}

/** The gateway's /metrics as samples: { name, labels, value } per line, comments skipped. */
export async function scrapeSamples(url) {
  const response = await request(`${url}/metrics`);
  const text = await response.body.text();
  const samples = [];
  for (const line of text.split('\n')) {
    const match = /^(\w+)(?:\{([^}]*)\})? ([0-9.eE+-]+)$/.exec(line);
    if (!match) continue;
    const [, name, labelText = '', valueText] = match;
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    samples.push({ name, labels, value: Number(valueText) });
  }
  return samples;
}
