#!/usr/bin/env node
// The fairness benchmark's upstream rate limit: a small HTTP proxy in front of the simulator that
// enforces a fixed requests-per-minute budget the way OpenAI describes its own (continuous refill,
// at most `burst-ms` worth at once: "60,000 rpm may be enforced as 1,000 per second") and answers
// a real 429 past it, in OpenAI's shape, with Retry-After. The simulator has no such limit of its
// own (src/simulator/rate-headers.ts only reports one), so without this the gateway could not be
// caught calling past its budget. It also counts what reached the upstream, for the report.
//
// Run as its own process, on the load core, so its timing is not disturbed by the load generator:
//   node bench/lib/fairness-upstream.mjs --port 9161 --target 9160 --rpm 4200 [--burst-ms 1000] [--no-rate-headers]
// --no-rate-headers: answers carry no x-ratelimit-* (as Gemini's), so only 429s tell the budget.
// GET /__fairness/stats answers its counters as JSON; /__fairness/reset sets them to zero.
import http from 'node:http';
import { parseArgs } from 'node:util';

const MINUTE_MS = 60_000;
/** As the gateway's own GCRA (src/budget/gcra.ts): rounding never refuses a call that is due. */
const EPSILON_MS = 1e-3;

/**
 * GCRA over performance.now(): `tat` is when the bucket would be empty. A call fits when the
 * work already in the bucket plus its own share stays within the burst.
 */
export class UpstreamBucket {
  constructor(rpm, burstMs) {
    this.limit = rpm;
    this.inc = MINUTE_MS / rpm;
    this.cap = Math.max(this.inc, burstMs);
    this.tat = 0;
  }

  /** { ok: true, level } after charging, or { ok: false, waitMs } (nothing charged). */
  take(now) {
    const level = Math.max(0, this.tat - now);
    if (level + this.inc > this.cap + EPSILON_MS) return { ok: false, waitMs: level + this.inc - this.cap };
    this.tat = Math.max(this.tat, now) + this.inc;
    return { ok: true, level: level + this.inc };
  }

  /**
   * OpenAI's x-ratelimit-* view of the same bucket, per minute: what is left of the minute's
   * limit and when it is whole again. With a burst of a second, "remaining" never runs low, as
   * with the real API, whose per-minute headers do not show its per-second enforcement.
   */
  headers(level) {
    const used = Math.ceil(level / this.inc - 1e-9);
    return {
      'x-ratelimit-limit-requests': String(this.limit),
      'x-ratelimit-remaining-requests': String(Math.max(0, this.limit - used)),
      'x-ratelimit-reset-requests': `${Math.max(0, Math.ceil(level))}ms`,
    };
  }
}

function options() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      target: { type: 'string' },
      rpm: { type: 'string' },
      'burst-ms': { type: 'string', default: '1000' },
      'no-rate-headers': { type: 'boolean', default: false },
    },
  });
  for (const key of ['port', 'target', 'rpm']) if (!values[key]) throw new Error(`--${key} is required`);
  return { port: Number(values.port), target: Number(values.target), rpm: Number(values.rpm), burstMs: Number(values['burst-ms']), rateHeaders: !values['no-rate-headers'] };
}

function newStats() {
  return {
    forwarded: 0,
    byStatus: {},
    rejected429: 0,
    transportErrors: 0,
    /** Forwarded calls per whole second since the first one (or the reset): the rate the upstream saw. */
    perSecond: [],
    /** When (ms after the first call, or the reset) each 429 was answered. */
    rejectedAt: [],
    inFlight: 0,
    maxInFlight: 0,
  };
}

function main() {
  const opts = options();
  const bucket = new UpstreamBucket(opts.rpm, opts.burstMs);
  let stats = newStats();
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
  let firstAt;

  const server = http.createServer((req, res) => {
    if (req.url === '/__fairness/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ...stats, rpm: opts.rpm, burstMs: opts.burstMs, capMs: bucket.cap, incMs: bucket.inc }));
      return;
    }
    if (req.url === '/__fairness/reset') {
      // Between the warm-up and the measured load: counters start again, the bucket does not.
      stats = { ...newStats(), inFlight: stats.inFlight };
      firstAt = performance.now();
      res.writeHead(204).end();
      return;
    }
    const now = performance.now();
    firstAt ??= now;
    const take = bucket.take(now);
    if (!take.ok) {
      stats.rejected429++;
      stats.rejectedAt.push(Math.round(now - firstAt));
      req.resume();
      const waitMs = Math.ceil(take.waitMs);
      const body = JSON.stringify({
        error: {
          message: `Rate limit reached for requests per min (RPM): Limit ${opts.rpm}. Please try again in ${waitMs}ms.`,
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      });
      res.writeHead(429, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'retry-after': String(Math.max(1, Math.ceil(waitMs / 1000))),
        'retry-after-ms': String(waitMs),
        ...(opts.rateHeaders ? {
          'x-ratelimit-limit-requests': String(opts.rpm),
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': `${waitMs}ms`,
        } : {}),
      });
      res.end(body);
      return;
    }
    stats.forwarded++;
    const second = Math.floor((now - firstAt) / 1000);
    while (stats.perSecond.length <= second) stats.perSecond.push(0);
    stats.perSecond[second]++;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let counted = false;
    const done = () => {
      if (counted) return;
      counted = true;
      stats.inFlight--;
    };
    res.once('close', done);
    const upstream = http.request(
      { host: '127.0.0.1', port: opts.target, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        stats.byStatus[answer.statusCode] = (stats.byStatus[answer.statusCode] ?? 0) + 1;
        // The simulator's own x-ratelimit-* (a fixed 10,000 rpm) would contradict the real budget.
        const headers = { ...answer.headers };
        for (const name of Object.keys(headers)) if (name.startsWith('x-ratelimit-')) delete headers[name];
        res.writeHead(answer.statusCode, { ...headers, ...(opts.rateHeaders ? bucket.headers(take.level) : {}) });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      stats.transportErrors++;
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"simulator unreachable","type":"server_error","param":null,"code":null}}');
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  server.listen(opts.port, '127.0.0.1', () => process.stderr.write(`fairness upstream on ${opts.port}: ${opts.rpm} rpm, burst ${opts.burstMs} ms -> ${opts.target}\n`));
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      server.close();
      server.closeAllConnections();
      agent.destroy();
      process.exit(0);
    });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
