// The chaos benchmark's client: a steady open-loop arrival rate (requests leave on schedule
// whether or not earlier ones have answered), alternating non-streaming and streaming requests,
// each one read to its end and judged by chaos-verdict.mjs. At 50 req/s undici costs well under
// 1 % of a core, so the generator cannot be the bottleneck; the send lag it records proves it.
import { Agent, request } from 'undici';
import { completionProblem, StreamJudge } from './chaos-verdict.mjs';
import { Samples } from './stats.mjs';

const PROMPT = [{ role: 'user', content: 'Tell me something about rivers.' }];
/** A send this much after its scheduled time counts as late (the generator fell behind). */
const LATE_MS = 10;

function newTally() {
  return {
    sent: 0,
    completions: { sent: 0, ok: 0, failed: {} },
    streams: { sent: 0, ok: 0, failedBeforeFirstByte: {}, errorEvent: {}, dishonest: {} },
    /** x-floodgate-attempts over the responses that carry it (those that got a 200). */
    attemptsHeader: { sum: 0, count: 0 },
    /** x-floodgate-attempts over every answer, errors included, of requests sent after the warm-up. */
    attemptsAfterWarmup: { sum: 0, count: 0, missing: 0 },
    /** From the scheduled send to the end of the answer: successful answers, and every answer. */
    latency: new Samples(4096),
    answered: new Samples(4096),
    sendLag: new Samples(4096),
    late: 0,
    maxInFlight: 0,
    /** Exceptions in this client's own code: a bench bug, reported, never silently dropped. */
    harnessErrors: {},
    /** When (s after the first send) each counted failure was sent: a cold start shows up here. */
    failureTimes: [],
  };
}

const add = (map, key) => (map[key] = (map[key] ?? 0) + 1);

/** The reason a request failed at the transport level: undici's code, or the error's name. */
const transportReason = (error) => `client: ${error?.code ?? error?.name ?? 'error'}`;

async function oneCompletion(ctx, tally, scheduled) {
  const c = tally.completions;
  c.sent++;
  let problem;
  try {
    const response = await request(ctx.url, { method: 'POST', dispatcher: ctx.agent, headers: ctx.headers, body: ctx.plainBody });
    countAttempts(ctx, tally, response, scheduled);
    problem = completionProblem(response.statusCode, await response.body.text());
  } catch (error) {
    problem = transportReason(error);
  }
  if (problem) return failed(ctx, tally, scheduled, c.failed, problem);
  c.ok++;
  tally.latency.push(performance.now() - scheduled);
}

async function oneStream(ctx, tally, scheduled) {
  const s = tally.streams;
  s.sent++;
  let response;
  try {
    response = await request(ctx.url, { method: 'POST', dispatcher: ctx.agent, headers: ctx.headers, body: ctx.streamBody });
  } catch (error) {
    return failed(ctx, tally, scheduled, s.failedBeforeFirstByte, transportReason(error));
  }
  countAttempts(ctx, tally, response, scheduled);
  if (response.statusCode !== 200) {
    const text = await response.body.text().catch(() => '');
    return failed(ctx, tally, scheduled, s.failedBeforeFirstByte, completionProblem(response.statusCode, text));
  }
  if (!String(response.headers['content-type']).startsWith('text/event-stream')) {
    await response.body.dump();
    return failed(ctx, tally, scheduled, s.dishonest, 'a 200 that is not an event stream');
  }
  const judge = new StreamJudge();
  let cut;
  try {
    response.body.setEncoding('utf8');
    for await (const text of response.body) judge.feed(text);
  } catch (error) {
    cut = error?.code === 'UND_ERR_BODY_TIMEOUT' ? 'stalled' : 'reset';
  }
  const verdict = judge.verdict(cut);
  if (verdict.kind === 'ok') {
    s.ok++;
    tally.latency.push(performance.now() - scheduled);
  } else if (verdict.kind === 'error_event') add(s.errorEvent, verdict.reason);
  else failed(ctx, tally, scheduled, s.dishonest, verdict.reason);
}

function failed(ctx, tally, scheduled, map, reason) {
  add(map, reason);
  tally.failureTimes.push((scheduled - ctx.start) / 1000);
}

/**
 * Successful answers feed the mean attempts; after the warm-up every answer does, errors included
 * (the gateway names its upstream calls on errors too, 0 when it made none), so all-down phases
 * get calls per request attributed request by request rather than from counters read mid-run.
 */
function countAttempts(ctx, tally, response, scheduled) {
  const attempts = Number(response.headers['x-floodgate-attempts']);
  const known = response.headers['x-floodgate-attempts'] !== undefined && Number.isFinite(attempts) && attempts >= 0;
  if (known && response.statusCode === 200) {
    tally.attemptsHeader.sum += attempts;
    tally.attemptsHeader.count++;
  }
  if (ctx.warmupMs === undefined || scheduled - ctx.start < ctx.warmupMs) return;
  const after = tally.attemptsAfterWarmup;
  if (known) {
    after.sum += attempts;
    after.count++;
  } else after.missing++;
}

/**
 * Sends `rate` requests a second for `seconds` to `url`, even ones non-streaming and odd ones
 * streaming, and resolves with the tally once every request has finished. `clientTimeoutMs`
 * bounds a wait for headers and each silence inside a body, so a stalled answer still ends.
 */
export async function driveOpenLoop({ url, model, rate, seconds, clientTimeoutMs = 30_000, warmupS, onProgress }) {
  const agent = new Agent({ connections: 1024, headersTimeout: clientTimeoutMs, bodyTimeout: clientTimeoutMs, keepAliveTimeout: 10_000 });
  const ctx = {
    url: `${url}/v1/chat/completions`,
    agent,
    headers: { 'content-type': 'application/json' },
    plainBody: JSON.stringify({ model, messages: PROMPT }),
    streamBody: JSON.stringify({ model, messages: PROMPT, stream: true }),
  };
  const tally = newTally();
  const total = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const start = performance.now() + 20;
  ctx.start = start;
  if (warmupS !== undefined) ctx.warmupMs = warmupS * 1000;
  const running = new Set();
  let sent = 0;
  let lastProgress = start;

  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const scheduled = start + sent * interval;
        const lag = now - scheduled;
        tally.sendLag.push(lag);
        if (lag > LATE_MS) tally.late++;
        const one = (sent % 2 === 0 ? oneCompletion : oneStream)(ctx, tally, scheduled)
          .catch((error) => add(tally.harnessErrors, String(error?.stack ?? error)))
          .then(() => tally.answered.push(performance.now() - scheduled));
        running.add(one);
        one.finally(() => running.delete(one));
        tally.maxInFlight = Math.max(tally.maxInFlight, running.size);
        sent++;
      }
      tally.sent = sent;
      if (onProgress && now - lastProgress >= 5000) {
        lastProgress = now;
        onProgress({ elapsedS: (now - start) / 1000, sent, inFlight: running.size });
      }
      if (sent >= total) return resolve();
      setTimeout(tick, Math.max(0, start + sent * interval - performance.now()));
    };
    tick();
  });
  await Promise.all(running);
  await agent.close();
  return tally;
}
