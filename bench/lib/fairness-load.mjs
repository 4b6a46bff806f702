// The fairness benchmark's clients: a fixed, seeded schedule of open-loop arrivals (requests leave
// on time whether or not earlier ones have answered), one address per client, and one record per
// request saying what the client saw. Light clients arrive as independent Poisson processes; the
// heavy client at a fixed rate with jitter. Each light client's arrivals depend only on the seed
// and its own index, so the baseline and the contended phase replay the very same light traffic.
import { Agent, request } from 'undici';
import { checkCompletion } from './check.mjs';
import { errorCode } from './chaos-verdict.mjs';
import { Samples } from './stats.mjs';

const PROMPT = [{ role: 'user', content: 'Tell me something about rivers.' }];
/** A send this much after its scheduled time counts as late (the generator fell behind). */
const LATE_MS = 10;

/** Documentation ranges (RFC 5737): light clients in TEST-NET-3, the heavy one in TEST-NET-2. */
export const lightAddress = (i) => `203.0.113.${i + 1}`;
export const HEAVY_ADDRESS = '198.51.100.7';
export const WARMUP_ADDRESS = '192.0.2.1';

/** mulberry32: small, fast and good enough for arrival times; one stream per client. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Every request of a phase, in send order: { atMs, client, kind, address }. `client` is the
 * light client's index, or 'heavy'.
 */
export function makeSchedule({ seed, lightClients, lightRate, heavyRate, seconds, withHeavy }) {
  const events = [];
  const endMs = seconds * 1000;
  for (let i = 0; i < lightClients; i++) {
    const random = prng(seed * 1000 + i + 1);
    // Poisson: exponential gaps. 1 - random() is in (0, 1], so the log is finite.
    for (let t = (-Math.log(1 - random()) / lightRate) * 1000; t < endMs; t += (-Math.log(1 - random()) / lightRate) * 1000) {
      events.push({ atMs: t, client: i, kind: 'light', address: lightAddress(i) });
    }
  }
  if (withHeavy) {
    const random = prng(seed * 1000 + 999_983);
    const gap = 1000 / heavyRate;
    // Evenly spaced, each moved by up to half a gap either way: a bot's loop, not a metronome.
    for (let k = 0; k < Math.round(seconds * heavyRate); k++) {
      events.push({ atMs: Math.max(0, (k + random() - 0.5) * gap), client: 'heavy', kind: 'heavy', address: HEAVY_ADDRESS });
    }
  }
  return events.sort((a, b) => a.atMs - b.atMs);
}

async function sendOne(ctx, event, scheduled) {
  const record = { client: event.client, kind: event.kind, atMs: event.atMs, status: 0, code: null, attempts: null, deployment: null, ok: false, latencyMs: 0 };
  try {
    const response = await request(ctx.url, {
      method: 'POST',
      dispatcher: ctx.agent,
      headers: { 'content-type': 'application/json', 'x-forwarded-for': event.address },
      body: ctx.body,
    });
    const text = await response.body.text();
    record.status = response.statusCode;
    const attempts = response.headers['x-floodgate-attempts'];
    record.attempts = attempts === undefined ? null : Number(attempts);
    record.deployment = response.headers['x-floodgate-deployment'] ?? null;
    const problem = checkCompletion(response.statusCode, text);
    if (problem === null) record.ok = true;
    else record.code = response.statusCode === 200 ? problem : errorCode(text);
  } catch (error) {
    record.code = `client: ${error?.code ?? error?.name ?? 'error'}`;
  }
  record.latencyMs = performance.now() - scheduled;
  return record;
}

/**
 * Sends `schedule` to the gateway at `url` and resolves, once every request has answered, with
 * { records, sendLag, late, maxInFlight, harnessErrors }. `clientTimeoutMs` bounds a wait for
 * headers or body, so a request the gateway never answers still ends (as a client error).
 */
export async function replay({ url, model, schedule, clientTimeoutMs = 120_000, onProgress }) {
  const agent = new Agent({ connections: 4096, headersTimeout: clientTimeoutMs, bodyTimeout: clientTimeoutMs, keepAliveTimeout: 30_000 });
  const ctx = { url: `${url}/v1/chat/completions`, agent, body: JSON.stringify({ model, messages: PROMPT }) };
  const records = [];
  const sendLag = new Samples(8192);
  const harnessErrors = {};
  let late = 0;
  let maxInFlight = 0;
  const running = new Set();
  const start = performance.now() + 50;
  let next = 0;
  let lastProgress = start;

  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < schedule.length && start + schedule[next].atMs <= now) {
        const event = schedule[next++];
        const scheduled = start + event.atMs;
        const lag = now - scheduled;
        sendLag.push(lag);
        if (lag > LATE_MS) late++;
        const one = sendOne(ctx, event, scheduled)
          .then((record) => records.push(record))
          .catch((error) => {
            const key = String(error?.stack ?? error);
            harnessErrors[key] = (harnessErrors[key] ?? 0) + 1;
          });
        running.add(one);
        one.finally(() => running.delete(one));
        maxInFlight = Math.max(maxInFlight, running.size);
      }
      if (onProgress && now - lastProgress >= 10_000) {
        lastProgress = now;
        onProgress({ elapsedS: (now - start) / 1000, sent: next, inFlight: running.size });
      }
      if (next >= schedule.length) return resolve();
      setTimeout(tick, Math.max(0, start + schedule[next].atMs - performance.now()));
    };
    tick();
  });
  while (running.size > 0) await Promise.all(running);
  await agent.close();
  return { records, sendLag, late, maxInFlight, harnessErrors, sent: next };
}

/**
 * A few requests from an address no measured client uses, so the gateway's first requests (JIT,
 * connection set-up) are not counted against either phase. They spend a little upstream budget,
 * which refills in a second.
 */
export async function warmUp({ url, model, count = 20 }) {
  const agent = new Agent({ connections: 8 });
  const body = JSON.stringify({ model, messages: PROMPT });
  const failures = [];
  for (let i = 0; i < count; i += 4) {
    await Promise.all(
      [0, 1, 2, 3].map(async () => {
        const response = await request(`${url}/v1/chat/completions`, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json', 'x-forwarded-for': WARMUP_ADDRESS },
          body,
        });
        const text = await response.body.text();
        const problem = checkCompletion(response.statusCode, text);
        if (problem) failures.push(`${problem} ${errorCode(text)}`);
      }),
    );
  }
  await agent.close();
  if (failures.length > 0) throw new Error(`warm-up requests failed: ${failures.slice(0, 3).join('; ')}`);
}
