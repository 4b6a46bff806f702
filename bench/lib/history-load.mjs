// The ingest load generator, run as its own process so the harness's polling never competes with
// it. A closed loop: `connections` keep-alive sockets, each sending the next append as soon as its
// last one answered, round-robin over many conversations. Usage: node history-load.mjs '<json>'.
// Prints JSON lines: {"type":"mark",...} at the start and end of the measured window (the harness
// samples the stream's backlog then), {"type":"progress",...} each second, one {"type":"result"}.
//
// It uses the bench's small HTTP/1.1 client (http1.mjs): at several thousand requests a second
// undici's per-request CPU would take a large share of a 2-core machine from the gateway.
import { encodePost, RawPool } from './http1.mjs';
import { Samples, summarize } from './stats.mjs';

const spec = JSON.parse(process.argv[2]);
const emit = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

/** A chat message of about 200 bytes: an ordinary turn, not a degenerate one-word item. */
const CONTENT = 'Could you summarise the main causes of the 1930s dust bowl, and say which farming practices changed afterwards? A short answer is fine; I mostly want the key dates and names.';

function requestFor(target) {
  const items = Array.from({ length: spec.itemsPerRequest }, (_, i) => ({ type: 'message', role: i % 2 ? 'assistant' : 'user', content: CONTENT }));
  return encodePost(`${spec.url}/v1/conversations/${target.id}/items`, { authorization: `Bearer ${target.token}` }, JSON.stringify({ items }));
}

async function run() {
  const requests = spec.targets.map(requestFor);
  const pool = new RawPool(spec.url, spec.connections);
  const latency = new Samples(1 << 16);
  const errors = {};
  let errorsTotal = 0;
  const perSecond = [];
  let okMeasured = 0;
  let okTotal = 0;
  let next = 0;
  let inFlight = 0;
  let phase = 'warmup';
  const t0 = performance.now();
  const measureFrom = t0 + spec.warmupS * 1000;
  const measureTo = measureFrom + spec.seconds * 1000;
  const cpu0 = process.cpuUsage();

  const tally = (kind) => {
    errorsTotal++;
    if (phase === 'measure') errors[kind] = (errors[kind] ?? 0) + 1;
  };
  const send = () => {
    if (phase === 'done') return;
    const bytes = requests[next++ % requests.length];
    const sentAt = performance.now();
    let text = '';
    inFlight++;
    pool.request(bytes, {
      onText: (t) => (text += t),
      onEnd: (status) => {
        inFlight--;
        const now = performance.now();
        if (status === 200 && text.includes('"object":"list"')) {
          okTotal++;
          if (phase === 'measure') {
            okMeasured++;
            latency.push(now - sentAt);
            const second = Math.floor((now - measureFrom) / 1000);
            perSecond[second] = (perSecond[second] ?? 0) + spec.itemsPerRequest;
          }
          send();
        } else {
          tally(`http ${status}${status === 503 ? ` ${/"code":"(\w+)"/.exec(text)?.[1] ?? ''}` : ''}`);
          // The gateway's backlog and unavailable answers carry Retry-After: 1 (retry_ms 1000);
          // a real client waits, and a closed loop spinning on instant 503s would measure nothing.
          setTimeout(send, status === 503 ? 1000 : 100);
        }
      },
      onError: (error) => {
        inFlight--;
        tally(error?.code ?? String(error));
        setTimeout(send, 100);
      },
    });
  };

  for (let c = 0; c < spec.connections; c++) send();
  let cpuMeasure0;
  let lastProgress = measureFrom;
  await new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (phase === 'warmup' && now >= measureFrom) {
        phase = 'measure';
        cpuMeasure0 = process.cpuUsage();
        emit({ type: 'mark', what: 'measure-start', at: Date.now() });
      } else if (phase === 'measure' && now >= measureTo) {
        phase = 'done';
        emit({ type: 'mark', what: 'measure-end', at: Date.now() });
        clearInterval(timer);
        resolve();
      } else if (phase === 'measure' && now - lastProgress >= 5000) {
        lastProgress = now;
        emit({ type: 'progress', elapsedS: (now - measureFrom) / 1000, items: okMeasured * spec.itemsPerRequest, inFlight });
      }
    }, 1000 / 50);
  });
  const cpuMeasured = process.cpuUsage(cpuMeasure0);
  // Answers still on their way were accepted too: they count in the total the database must hold.
  const deadline = performance.now() + 10_000;
  while (inFlight > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  pool.close();
  emit({
    type: 'result',
    itemsPerRequest: spec.itemsPerRequest,
    connections: spec.connections,
    seconds: spec.seconds,
    okRequests: okMeasured,
    itemsMeasured: okMeasured * spec.itemsPerRequest,
    itemsTotal: okTotal * spec.itemsPerRequest,
    unanswered: inFlight,
    errors,
    errorsTotal,
    latency: summarize(latency.values()),
    perSecond: perSecond.map((n) => n ?? 0),
    cpuPct: ((cpuMeasured.user + cpuMeasured.system) / 1e6 / spec.seconds) * 100,
    cpuTotalS: (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1e6,
  });
}

run().catch((error) => {
  emit({ type: 'fatal', message: String(error?.stack ?? error) });
  process.exit(1);
});
