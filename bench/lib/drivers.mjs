// Runs one load-generator process (wrk for closed loop, bench/lib/loadgen.mjs otherwise) pinned to
// the load core, and returns what it measured.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startChild, track } from './procs.mjs';
import { LOAD_CORE } from './targets.mjs';

const LOADGEN = fileURLToPath(new URL('./loadgen.mjs', import.meta.url));
const WRK_SCRIPT = fileURLToPath(new URL('../wrk/check.lua', import.meta.url));

/**
 * Closed loop with wrk (one thread: it has one core, shared with the simulator). Run under
 * bash so that the `times` builtin can report wrk's CPU seconds after it has exited.
 */
export function runWrk({ url, headers, body, connections, seconds }) {
  const headerText = Object.entries(headers)
    .map(([k, v]) => `${k}:${v}`)
    .join(';');
  const command = `taskset -c ${LOAD_CORE} wrk -t1 -c${connections} -d${seconds}s --timeout 10s -s '${WRK_SCRIPT}' '${url}'; rc=$?; times >&2; exit $rc`;
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', command], {
      env: { ...process.env, BENCH_BODY: JSON.stringify(body), BENCH_HEADERS: headerText },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track('wrk', child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (!line) return reject(new Error(`wrk failed (exit ${code}): ${err || out}`));
      const result = JSON.parse(line.slice('BENCH_RESULT '.length));
      // `times` prints the shell's own CPU, then its children's: "0m1.234s 0m0.567s".
      const childLine = err.trim().split('\n').at(-1) ?? '';
      const seconds = [...childLine.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, m) => sum + Number(m[1]) * 60 + Number(m[2]), 0);
      result.loadgenCpuSeconds = seconds;
      resolve(result);
    });
  });
}

/** Runs loadgen.mjs with `spec`; `onProgress` receives its progress lines. */
export function runLoadgen(ctx, spec, { onStart, onProgress, timeoutMs } = {}) {
  const record = startChild('loadgen', ['node', LOADGEN, JSON.stringify(spec)], { core: LOAD_CORE, nofile: ctx.nofile, stdout: 'pipe' });
  onStart?.(record);
  return new Promise((resolve, reject) => {
    let buffered = '';
    let result;
    record.child.stdout.on('data', (chunk) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.startsWith('{')) continue;
        const message = JSON.parse(line);
        if (message.type === 'progress') onProgress?.(message);
        else if (message.type === 'result') result = message;
      }
    });
    const timer = timeoutMs
      ? setTimeout(() => {
          try {
            process.kill(record.pid, 'SIGKILL');
          } catch {
            // gone
          }
        }, timeoutMs)
      : undefined;
    record.child.on('exit', (code) => {
      clearTimeout(timer);
      if (result?.fatal) return reject(new Error(`load generator failed: ${result.fatal}`));
      if (!result) return reject(new Error(`load generator exited (${code}) without a result:\n${record.tail.join('\n')}`));
      resolve(result);
    });
  });
}
