// The Node load generator, run as its own process (pinned next to the simulator) so that the
// harness's own bookkeeping never competes with it. Usage: node loadgen.mjs '<json spec>'.
// It prints JSON lines: {"type":"progress",...} while running and one {"type":"result",...}.
//
// Modes:
//   open  fixed arrival rate; latency counts from each request's scheduled send time, so a stall
//         in the target shows up in full instead of being hidden by the generator waiting.
//   ttfb  closed loop of `concurrency` streams; time to the first content chunk.
//   slow  `n` long streams opened over `rampS` seconds and held open together.
import { checkCompletion, SseChecker } from './check.mjs';
import { encodePost, RawPool } from './http1.mjs';
import { Samples, summarize } from './stats.mjs';

const spec = JSON.parse(process.argv[2]);
const requestBytes = encodePost(spec.url, spec.headers, JSON.stringify(spec.body));

const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

function tally(map, kind) {
  map[kind] = (map[kind] ?? 0) + 1;
}

function errorKind(error) {
  return error?.code ?? error?.name ?? String(error);
}

async function openLoop() {
  const { rate, durationS, warmupS, connections, maxInFlight } = spec;
  const pool = new RawPool(spec.url, connections);
  const interval = 1000 / rate;
  const warmupCount = Math.round(rate * warmupS);
  const total = warmupCount + Math.round(rate * durationS);
  const latency = new Samples(total);
  // Per second of the schedule: how many were answered and the slowest answer, which shows
  // whether a bad p99 is a steady state, a collapse that builds up, or a few stalls.
  const seconds = Math.ceil(durationS);
  const perSecond = Array.from({ length: seconds }, () => ({ ok: 0, errors: 0, max: 0, latencies: new Samples(Math.ceil(rate)) }));
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
    let text = '';
    pool.request(requestBytes, {
      onText: (t) => (text += t),
      onEnd: (status) => {
        inFlight--;
        const now = performance.now();
        const problem = checkCompletion(status, text);
        if (!measured) return;
        const bucket = perSecond[Math.min(seconds - 1, Math.floor((scheduled - measureStart) / 1000))];
        if (problem) {
          tally(errors, problem);
          bucket.errors++;
        } else {
          ok++;
          lastOkAt = now;
          latency.push(now - scheduled);
          bucket.ok++;
          bucket.latencies.push(now - scheduled);
        }
      },
      onError: (error) => {
        inFlight--;
        if (measured) {
          tally(errors, errorKind(error));
          perSecond[Math.min(seconds - 1, Math.floor((scheduled - measureStart) / 1000))].errors++;
        }
      },
    });
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
    connectionsOpened: pool.opened,
    timeline: perSecond.map((b) => {
      const s = summarize(b.latencies.values());
      return { ok: b.ok, errors: b.errors, p50: s?.p50, p99: s?.p99, max: s?.max };
    }),
  });
  pool.close();
}

/** One streamed completion, checked chunk by chunk as it arrives. */
function streamOnce(pool, onHeaders) {
  const checker = new SseChecker({ light: spec.mode === 'slow' });
  const t0 = performance.now();
  let opened = false;
  return new Promise((resolve) => {
    // A stream that stalls is a failure to report, not a reason for the run to hang.
    const timer = setTimeout(() => settle({ problem: 'timeout', t0, checker, opened }), spec.streamTimeoutS * 1000);
    let settled = false;
    const settle = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    pool.request(requestBytes, {
      onHeaders: () => {
        opened = true;
        onHeaders?.();
      },
      onText: (text) => checker.feed(text, performance.now()),
      onEnd: (status) => settle({ problem: checker.verdict(status, spec.expectedChunks), t0, end: performance.now(), checker, opened }),
      onError: (error) => settle({ problem: errorKind(error), t0, checker, opened }),
    });
  });
}

async function ttfbLoop() {
  const { concurrency, durationS, warmupS } = spec;
  const pool = new RawPool(spec.url, concurrency);
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
      const r = await streamOnce(pool);
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
  pool.close();
}

async function slowStreams() {
  const { n, rampS } = spec;
  // One connection per stream: that is what N simultaneous chat users look like to a proxy.
  const pool = new RawPool(spec.url, n);
  const errors = {};
  const duration = new Samples(n);
  const ttfb = new Samples(n);
  let ok = 0;
  let open = 0;
  let peakOpen = 0;
  let peakOpenAt = 0;
  let started = 0;
  let finished = 0;
  const t0 = performance.now();
  const progress = setInterval(() => emit({ type: 'progress', started, open, finished, ok, elapsedS: (performance.now() - t0) / 1000 }), 250);
  // Never more than maxPending streams waiting for their response headers. A burst of
  // connections beyond a server's accept backlog (Node's default is 511) is dropped by the
  // kernel and retried by TCP after 1, 3, 7... seconds, which would measure the backlog size,
  // not the proxy. So the ramp is as fast as the schedule asks, but no faster than the target
  // (and the simulator behind it) accepts.
  let pending = 0;
  let wake = null;
  const runs = [];
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * rampS * 1000) / n;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    while (pending >= spec.maxPending) await new Promise((resolve) => (wake = resolve));
    started++;
    pending++;
    let counted = true;
    const settlePending = () => {
      if (!counted) return;
      counted = false;
      pending--;
      wake?.();
      wake = null;
    };
    runs.push(
      streamOnce(pool, () => {
        settlePending();
        open++;
        if (open > peakOpen) {
          peakOpen = open;
          peakOpenAt = (performance.now() - t0) / 1000;
        }
      }).then((r) => {
        settlePending();
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
  const rampDoneS = (performance.now() - t0) / 1000;
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
    peakOpenAtS: peakOpenAt,
    rampDoneS,
    wallS,
    duration: summarize(duration.values()),
    ttfb: summarize(ttfb.values()),
    loadgenCpuPct: ((cpu.user + cpu.system) / 1e6 / wallS) * 100,
  });
  pool.close();
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
