// The Node load generator, run as its own process (pinned next to the simulator) so that the
// harness's own bookkeeping never competes with it. Usage: node loadgen.mjs '<json spec>'.
// It prints JSON lines: {"type":"progress",...} while running and one {"type":"result",...}.
//
// Modes:
//   open  fixed arrival rate; latency counts from each request's scheduled send time, so a stall
//         in the target shows up in full instead of being hidden by the generator waiting.
//   ttfb  closed loop of `concurrency` streams; time to the first content chunk.
//   slow  `n` long streams opened over `rampS` seconds and held open together.
import { Pool } from 'undici';
import { checkCompletion, SseChecker } from './check.mjs';
import { Samples, summarize } from './stats.mjs';

const spec = JSON.parse(process.argv[2]);
const origin = new URL(spec.url).origin;
const path = new URL(spec.url).pathname;
const headers = { 'content-type': 'application/json', ...spec.headers };

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function tally(map, kind) {
  map[kind] = (map[kind] ?? 0) + 1;
}

function errorKind(error) {
  return error?.code ?? error?.name ?? String(error);
}

async function openLoop() {
  const { rate, durationS, warmupS, connections, maxInFlight } = spec;
  const body = JSON.stringify(spec.body);
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const interval = 1000 / rate;
  const warmupCount = Math.round(rate * warmupS);
  const total = warmupCount + Math.round(rate * durationS);
  const latency = new Samples(total);
  const sendLag = new Samples(total);
  const errors = {};
  let ok = 0;
  let dropped = 0;
  let late = 0;
  let inFlight = 0;
  let next = 0;
  let cpuAtMeasureStart;
  let measureStart = 0;
  let lastOkAt = 0;
  const start = performance.now() + 20;

  const fire = (scheduled, measured) => {
    inFlight++;
    pool
      .request({ path, method: 'POST', headers, body })
      .then(async ({ statusCode, body: stream }) => {
        const text = await stream.text();
        const now = performance.now();
        const problem = checkCompletion(statusCode, text);
        if (!measured) return;
        if (problem) tally(errors, problem);
        else {
          ok++;
          lastOkAt = now;
          latency.push(now - scheduled);
        }
      })
      .catch((error) => {
        if (measured) tally(errors, errorKind(error));
      })
      .finally(() => inFlight--);
  };

  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const scheduled = start + next * interval;
        const measured = next >= warmupCount;
        if (next === warmupCount) {
          cpuAtMeasureStart = process.cpuUsage();
          measureStart = scheduled;
        }
        next++;
        // A generator that cannot keep up must say so rather than quietly send later.
        const lag = now - scheduled;
        if (measured) {
          sendLag.push(lag);
          if (lag > spec.lateMs) late++;
        }
        if (inFlight >= maxInFlight) {
          if (measured) dropped++;
          continue;
        }
        fire(scheduled, measured);
      }
      if (next < total) setTimeout(tick, Math.max(0, start + next * interval - performance.now() - 0.3));
      else resolve();
    };
    tick();
  });
  const scheduleEnd = start + total * interval;
  const deadline = performance.now() + spec.drainTimeoutS * 1000;
  while (inFlight > 0 && performance.now() < deadline) await sleep(5);
  const unfinished = inFlight;
  const cpu = process.cpuUsage(cpuAtMeasureStart);
  const wallS = (Math.max(scheduleEnd, lastOkAt) - measureStart) / 1000;
  emit({
    type: 'result',
    mode: 'open',
    rate,
    scheduled: total - warmupCount,
    ok,
    errors,
    dropped,
    unfinished,
    late,
    achievedRps: ok / wallS,
    latency: summarize(latency.values()),
    sendLag: summarize(sendLag.values()),
    loadgenCpuPct: ((cpu.user + cpu.system) / 1e6 / wallS) * 100,
  });
  await pool.destroy();
}

async function streamOnce(pool, body, onHeaders) {
  const checker = new SseChecker();
  const t0 = performance.now();
  let status = 0;
  let opened = false;
  try {
    const { statusCode, body: stream } = await pool.request({ path, method: 'POST', headers, body });
    status = statusCode;
    opened = true;
    onHeaders?.();
    stream.setEncoding('utf8');
    for await (const text of stream) checker.feed(text, performance.now());
  } catch (error) {
    return { problem: errorKind(error), t0, checker, opened };
  }
  const end = performance.now();
  return { problem: checker.verdict(status, spec.expectedChunks), t0, end, checker, opened };
}

async function ttfbLoop() {
  const { concurrency, durationS, warmupS } = spec;
  const body = JSON.stringify(spec.body);
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
  const ttfb = new Samples();
  const total = new Samples();
  const errors = {};
  let ok = 0;
  const t0 = performance.now();
  const measureFrom = t0 + warmupS * 1000;
  const stopAt = measureFrom + durationS * 1000;
  let cpuStart;
  setTimeout(() => (cpuStart = process.cpuUsage()), warmupS * 1000);
  const worker = async () => {
    while (performance.now() < stopAt) {
      const r = await streamOnce(pool, body);
      if (r.t0 < measureFrom) continue;
      if (r.problem) tally(errors, r.problem);
      else {
        ok++;
        ttfb.push(r.checker.firstContentAt - r.t0);
        total.push(r.end - r.t0);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const cpu = process.cpuUsage(cpuStart);
  emit({
    type: 'result',
    mode: 'ttfb',
    concurrency,
    ok,
    errors,
    streamsPerSecond: ok / durationS,
    ttfb: summarize(ttfb.values()),
    total: summarize(total.values()),
    loadgenCpuPct: ((cpu.user + cpu.system) / 1e6 / durationS) * 100,
  });
  await pool.destroy();
}

async function slowStreams() {
  const { n, rampS } = spec;
  const body = JSON.stringify(spec.body);
  // One connection per stream: that is what N simultaneous chat users look like to a proxy.
  const pool = new Pool(origin, { connections: n, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 120_000, bodyTimeout: 60_000 });
  const errors = {};
  const duration = new Samples(n);
  const ttfb = new Samples(n);
  let ok = 0;
  let open = 0;
  let peakOpen = 0;
  let started = 0;
  let finished = 0;
  const t0 = performance.now();
  const progress = setInterval(() => emit({ type: 'progress', started, open, finished, ok, elapsedS: (performance.now() - t0) / 1000 }), 250);
  const runs = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * rampS * 1000) / n;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    started++;
    runs.push(
      streamOnce(pool, body, () => {
        open++;
        if (open > peakOpen) peakOpen = open;
      }).then((r) => {
        finished++;
        if (r.opened) open--;
        if (r.problem) tally(errors, r.problem);
        else {
          ok++;
          duration.push(r.end - r.t0);
          ttfb.push(r.checker.firstContentAt - r.t0);
        }
      }),
    );
  }
  await Promise.all(runs);
  clearInterval(progress);
  const cpu = process.cpuUsage();
  const wallS = (performance.now() - t0) / 1000;
  emit({
    type: 'result',
    mode: 'slow',
    n,
    ok,
    failed: n - ok,
    errors,
    peakOpen,
    wallS,
    duration: summarize(duration.values()),
    ttfb: summarize(ttfb.values()),
    loadgenCpuPct: ((cpu.user + cpu.system) / 1e6 / wallS) * 100,
  });
  await pool.destroy();
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const modes = { open: openLoop, ttfb: ttfbLoop, slow: slowStreams };
modes[spec.mode]().then(
  () => process.exit(0),
  (error) => {
    emit({ type: 'result', mode: spec.mode, fatal: String(error?.stack ?? error) });
    process.exit(1);
  },
);
