// The measurements. Each section starts one proxy at a time, runs its load levels against it,
// stops it, and moves to the next target, so no idle proxy shares the machine with a busy one.
import { readFileSync } from 'node:fs';
import { runLoadgen, runWrk } from './drivers.mjs';
import { MemorySampler, startCpuWindow } from './monitor.mjs';
import { memoryOf, sleep } from './procs.mjs';
import { requestFor, startTarget } from './targets.mjs';

const say = (text) => process.stderr.write(`${text}\n`);

/**
 * Percent of one core that processes other than ours may use during a measurement before it is
 * called disturbed and repeated (a shared development machine runs compilers and test suites).
 */
const FOREIGN_CPU_LIMIT = 15;

/** Which side ran out of CPU: the proxy's core, or the core the simulator shares with the load. */
function judgeBottleneck(target, cpu, loadgenPct) {
  const proxy = cpu.processes.proxy ?? 0;
  const core0 = cpu.cores['0'] ?? 0;
  const core1 = cpu.cores['1'] ?? 0;
  if (target.proxy && (proxy >= 85 || core1 >= 90)) return `proxy (core 1 ${core1}%)`;
  if (core0 >= 90) return `core 0: simulator ${cpu.processes.simulator}% + load generator ${Math.round(loadgenPct)}%`;
  return 'none (spare CPU on both cores)';
}

/**
 * Starts `name`, runs `body(target, measure)`, and always stops it again. A proxy that fails to
 * start or dies is recorded as a failure of this section, and the run goes on.
 */
async function withTarget(ctx, section, name, body) {
  let target;
  let sampler;
  say(`[${section}] ${name}: starting`);
  try {
    target = await startTarget(ctx, name, section);
    if (target.proxy) sampler = new MemorySampler(target.proxy.pid);
    const measure = async (what, fn, { attempts = ctx.plan.attempts } = {}) => {
      let best;
      for (let attempt = 1; attempt <= attempts; attempt++) {
        if (target.proxy?.exited) throw new Error(`${name} has exited (${target.proxy.code})`);
        const cpuDone = startCpuWindow({ proxy: target.proxy?.pid, simulator: ctx.sim.pid });
        const from = performance.now();
        const fromWall = Date.now();
        const result = await fn();
        result.cpu = cpuDone();
        if (target.probeFile) result.eventLoop = readProbe(target.probeFile, fromWall, Date.now());
        result.attempt = attempt;
        if (sampler) result.proxyPeakRss = sampler.peakBetween(from, performance.now());
        result.bottleneck = judgeBottleneck(target, result.cpu, result.loadgenCpuPct ?? 0);
        if (target.proxy?.exited) throw new Error(`${name} exited during ${what} (${target.proxy.code}):\n${target.proxy.tail.join('\n')}`);
        if (!best || result.cpu.foreign < best.cpu.foreign) best = result;
        if (result.cpu.foreign <= FOREIGN_CPU_LIMIT) break;
        say(`[${section}] ${name} ${what}: disturbed, other processes used ${result.cpu.foreign}% of a core (busiest: ${result.cpu.busiestForeign})${attempt < attempts ? '; repeating' : ''}`);
      }
      best.disturbed = best.cpu.foreign > FOREIGN_CPU_LIMIT;
      return best;
    };
    await body(target, measure, sampler);
    if (sampler) {
      const mem = ctx.results.memory[name] ?? (ctx.results.memory[name] = { peakRssBySection: {}, hwmBySection: {} });
      mem.peakRssBySection[section] = sampler.peakRss;
      mem.hwmBySection[section] = memoryOf(target.proxy.pid).hwm;
      mem.peakRss = Math.max(mem.peakRss ?? 0, sampler.peakRss);
    }
  } catch (error) {
    say(`[${section}] ${name}: FAILED: ${error.message}`);
    ctx.results.failures.push({ section, target: name, message: error.message });
  } finally {
    sampler?.stop();
    const after = await target?.stop();
    if (after?.exit !== undefined || after?.log) ctx.results.failures.push({ section, target: name, message: `on stop: exit ${after.exit ?? 0}`, log: after.log });
  }
}

/** Live heap after a full collection once the load is over (see loop-probe.mjs). */
async function heapAfterGc(target) {
  try {
    process.kill(target.proxy.pid, 'SIGUSR2');
  } catch {
    return undefined;
  }
  await sleep(1500);
  const lines = readFileSync(target.probeFile, 'utf8').trim().split('\n');
  const last = lines.map((l) => JSON.parse(l)).filter((l) => l.afterGc).at(-1);
  return last ? Math.round(last.heapUsed / 1048576) : undefined;
}

/** Floodgate's own view of the window (see loop-probe.mjs): was its event loop busy or blocked? */
function readProbe(file, from, to) {
  let lines;
  try {
    lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  } catch {
    return undefined;
  }
  const inside = lines.filter((l) => !l.afterGc && l.t > from + 1000 && l.t <= to);
  if (inside.length === 0) return undefined;
  return {
    seconds: inside.length,
    meanUtilization: Math.round((inside.reduce((a, l) => a + l.elu, 0) / inside.length) * 1000) / 1000,
    worstSecondDelayP99Ms: Math.max(...inside.map((l) => l.delayP99)),
    maxDelayMs: Math.max(...inside.map((l) => l.delayMax)),
    maxHeapUsedMB: Math.round(Math.max(...inside.map((l) => l.heapUsed)) / 1048576),
  };
}

function errorCount(errors) {
  return Object.values(errors ?? {}).reduce((a, b) => a + b, 0);
}

export async function throughputSection(ctx) {
  const { connections, warmupS, seconds } = ctx.plan.throughput;
  const out = (ctx.results.throughput = {});
  for (const name of ctx.targets) {
    await withTarget(ctx, 'throughput', name, async (target, measure) => {
      const request = requestFor(target, ctx.scenarios['sim-chat']);
      out[name] = [];
      for (const c of connections) {
        await runWrk({ ...request, connections: c, seconds: warmupS });
        const r = await measure(`${c} connections`, async () => {
          const started = performance.now();
          const w = await runWrk({ ...request, connections: c, seconds });
          const wallS = (performance.now() - started) / 1000;
          const errors = {};
          if (w.badStatus) errors['non-200 status'] = w.badStatus;
          if (w.badBody) errors['bad body'] = w.badBody;
          for (const k of ['connectErrors', 'readErrors', 'writeErrors', 'timeouts']) if (w[k]) errors[k] = w[k];
          return { connections: c, rps: w.good / (w.durationUs / 1e6), ok: w.good, errors, wrk: w, loadgenCpuPct: (w.loadgenCpuSeconds / wallS) * 100 };
        });
        out[name].push(r);
        say(`[throughput] ${name} c=${c}: ${Math.round(r.rps)} req/s, errors ${errorCount(r.errors)}, ${r.bottleneck}`);
      }
    });
  }
}

export async function openLoopSection(ctx) {
  const { rates, warmupS, seconds } = ctx.plan.open;
  const out = (ctx.results.open = {});
  for (const name of ctx.targets) {
    await withTarget(ctx, 'open', name, async (target, measure) => {
      const request = requestFor(target, ctx.scenarios['sim-chat']);
      out[name] = [];
      for (const rate of rates) {
        const spec = {
          mode: 'open',
          ...request,
          rate,
          warmupS,
          durationS: seconds,
          // Enough sockets that the client never queues at these rates unless the target stalls.
          connections: 1024,
          maxInFlight: 20_000,
          lateMs: 10,
          drainTimeoutS: 15,
        };
        const r = await measure(`${rate} req/s`, () => runLoadgen(ctx, spec, { timeoutMs: (warmupS + seconds + 60) * 1000 }));
        out[name].push(r);
        const l = r.latency;
        say(`[open] ${name} ${rate}/s: p50 ${fmt(l?.p50)} p99 ${fmt(l?.p99)} max ${fmt(l?.max)} ms, errors ${errorCount(r.errors)}, dropped ${r.dropped}, late ${r.late}, ${r.bottleneck}`);
      }
    });
  }
}

export async function ttfbSection(ctx) {
  const { concurrency, warmupS, seconds } = ctx.plan.ttfb;
  const out = (ctx.results.ttfb = {});
  for (const name of ctx.targets) {
    await withTarget(ctx, 'ttfb', name, async (target, measure) => {
      const request = requestFor(target, ctx.scenarios['sim-stream'], { stream: true });
      const spec = { mode: 'ttfb', ...request, concurrency, warmupS, durationS: seconds, streamTimeoutS: 30, expectedChunks: Number(ctx.scenarios['sim-stream'].simHeaders['x-sim-tokens']) };
      const r = await measure('ttfb', () => runLoadgen(ctx, spec, { timeoutMs: (warmupS + seconds + 60) * 1000 }));
      out[name] = r;
      say(`[ttfb] ${name}: p50 ${fmt(r.ttfb?.p50)} p99 ${fmt(r.ttfb?.p99)} ms, ${Math.round(r.streamsPerSecond)} streams/s, errors ${errorCount(r.errors)}`);
    });
  }
}

/** Idle memory: the average of a few samples a second after start-up and a warm request. */
async function idleRss(sampler) {
  await sleep(1000);
  let sum = 0;
  for (let i = 0; i < 5; i++) {
    sum += sampler.current().rss;
    await sleep(100);
  }
  return sum / 5;
}

export async function slowSection(ctx) {
  const out = (ctx.results.slow = {});
  for (const variant of ctx.plan.slow.variants) {
    out[variant.name] = {};
    for (const name of variant.targets) await slowRun(ctx, variant, name, out[variant.name]);
  }
}

async function slowRun(ctx, variant, name, out) {
  const { n, rampS } = ctx.plan.slow;
  const scenario = ctx.scenarios[variant.model];
  const expectedChunks = Number(scenario.simHeaders['x-sim-tokens']);
  const label = `slow-${variant.name}`;
  await withTarget(ctx, label, name, async (target, measure, sampler) => {
    const request = requestFor(target, scenario, { stream: true });
    const rssIdle = sampler ? await idleRss(sampler) : undefined;
    let lastReport = 0;
    const spec = { mode: 'slow', ...request, n, rampS, expectedChunks, streamTimeoutS: 180, maxPending: 400 };
    const r = await measure(
      `${n} streams`,
      () =>
        runLoadgen(ctx, spec, {
          timeoutMs: (rampS + 400) * 1000,
          onProgress: (p) => {
            if (p.elapsedS - lastReport >= 5) {
              lastReport = p.elapsedS;
              say(`[${label}] ${name}: t=${p.elapsedS.toFixed(0)}s started ${p.started} open ${p.open} finished ${p.finished} ok ${p.ok}`);
            }
          },
        }),
      // Once only: a second attempt would start from a process that already grew.
      { attempts: 1 },
    );
    r.variant = variant.name;
    r.headers = scenario.simHeaders;
    if (sampler) {
      await sleep(2000);
      r.rssIdle = rssIdle;
      r.rssPeak = r.proxyPeakRss;
      r.rssAfter = sampler.current().rss;
      if (target.probeFile) r.heapAfterGcMB = await heapAfterGc(target);
      r.rssPerStream = (r.rssPeak - rssIdle) / n;
      r.rssPerOpenStream = (r.rssPeak - rssIdle) / Math.max(1, r.peakOpen);
    }
    out[name] = r;
    say(
      `[${label}] ${name}: ${r.ok}/${n} complete, ${r.failed} failed, peak open ${r.peakOpen}` +
        (sampler ? `, RSS ${mb(rssIdle)} -> ${mb(r.rssPeak)} MB (${kb(r.rssPerOpenStream)} KB per open stream)` : ''),
    );
  });
}

/** Floodgate's (and nginx's) memory with no load: measured on its own only if asked for. */
export async function idleMemorySection(ctx) {
  for (const name of ctx.targets.filter((t) => t !== 'direct')) {
    await withTarget(ctx, 'idle', name, async (_target, _measure, sampler) => {
      const mem = ctx.results.memory[name] ?? (ctx.results.memory[name] = { peakRssBySection: {}, hwmBySection: {} });
      mem.idleRss = await idleRss(sampler);
    });
  }
}

const fmt = (x) => (x === undefined || x === null ? '-' : x.toFixed(2));
const mb = (b) => (b / 1048576).toFixed(1);
const kb = (b) => (b / 1024).toFixed(1);
