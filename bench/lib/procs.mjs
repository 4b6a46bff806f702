// Child processes of the benchmark: spawning them on a chosen core with a raised file limit,
// waiting until they serve, reading their CPU time and memory from /proc, and stopping every one
// of them on exit or Ctrl-C so that no simulator or proxy outlives a run.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, createWriteStream } from 'node:fs';
import net from 'node:net';

const children = new Set();
// Set on Ctrl-C, so that a section racing with the cleanup cannot start another process.
let stopping = false;

/**
 * The hard limit on open files is the ceiling a child can raise its own limit to. Containers
 * often withhold CAP_SYS_RESOURCE, so it cannot be raised past what we were given.
 */
export function hardNofileLimit() {
  const out = spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const value = out.stdout.trim();
  return value === 'unlimited' ? 1_048_576 : Number(value);
}

/**
 * Starts `argv` pinned to `core`, with the soft file limit raised to the hard limit. prlimit and
 * taskset both exec their command, so the returned pid is the program's own pid (what /proc
 * sampling and --cpu-prof need), not a wrapper's.
 */
export function startChild(name, argv, { core, env = {}, nofile, logFile, stdout = 'log' } = {}) {
  if (stopping) throw new Error('interrupted');
  const wrapped = [];
  if (nofile) wrapped.push('prlimit', `--nofile=${nofile}:${nofile}`, '--');
  if (core !== undefined) wrapped.push('taskset', '-c', String(core));
  wrapped.push(...argv);
  const child = spawn(wrapped[0], wrapped.slice(1), {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const record = { name, child, pid: child.pid, exited: false, code: null, tail: [] };
  // Keep the last lines of output for error messages; also save all of it when asked.
  const log = logFile ? createWriteStream(logFile) : undefined;
  const keep = (chunk) => {
    log?.write(chunk);
    const lines = chunk.toString().split('\n').filter(Boolean);
    record.tail.push(...lines);
    if (record.tail.length > 40) record.tail.splice(0, record.tail.length - 40);
  };
  if (stdout !== 'pipe') child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', (code, signal) => {
    record.exited = true;
    record.code = code ?? signal;
    children.delete(record);
    log?.end();
  });
  children.add(record);
  return record;
}

/** Registers a process spawned elsewhere (wrk under bash) so that cleanup reaches it too. */
export function track(name, child) {
  if (stopping) child.kill('SIGKILL');
  const record = { name, child, pid: child.pid, exited: false, code: null, tail: [] };
  children.add(record);
  child.on('exit', (code, signal) => {
    record.exited = true;
    record.code = code ?? signal;
    children.delete(record);
  });
  return record;
}

/** Signals a process and, for the last resort, its descendants (wrk under bash, nginx workers). */
function signalTree(pid, signal, withDescendants) {
  for (const p of withDescendants ? processTree(pid).reverse() : [pid]) {
    try {
      process.kill(p, signal);
    } catch {
      // already gone
    }
  }
}

/** SIGTERM, then SIGKILL (to it and its descendants) if it has not gone after `graceMs`. */
export async function stopChild(record, { signal = 'SIGTERM', graceMs = 5000 } = {}) {
  if (!record || record.exited) return;
  const gone = new Promise((resolve) => record.child.once('exit', resolve));
  signalTree(record.pid, signal, false);
  const timer = setTimeout(() => signalTree(record.pid, 'SIGKILL', true), graceMs);
  await gone;
  clearTimeout(timer);
}

export async function stopAll() {
  await Promise.all([...children].map((c) => stopChild(c, { graceMs: 2000 })));
}

/** Synchronous last resort for process 'exit': only our own children, by pid. */
function killAllNow() {
  for (const c of children) signalTree(c.pid, 'SIGKILL', true);
}

export function installCleanup(onInterrupt) {
  process.on('exit', killAllNow);
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (interrupted) {
        killAllNow();
        process.exit(130);
      }
      interrupted = true;
      stopping = true;
      process.stderr.write(`\n${signal}: stopping child processes...\n`);
      void Promise.resolve(onInterrupt?.())
        .catch(() => {})
        .then(stopAll)
        .finally(() => process.exit(130));
    });
  }
}

export function portIsFree(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** Polls `probe` until it resolves true, failing early if the process dies. */
export async function waitUntil(record, probe, { timeoutMs = 20_000, what = record.name } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    if (record.exited) throw new Error(`${what} exited (${record.code}) during start-up:\n${record.tail.join('\n')}`);
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(100);
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms (${lastError?.message ?? 'no answer'}):\n${record.tail.join('\n')}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The pid and every descendant (an nginx master and its worker, say). */
export function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const task of readdirSync(`/proc/${pids[i]}/task`)) {
        const kids = readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8').trim();
        if (kids) pids.push(...kids.split(/\s+/).map(Number));
      }
    } catch {
      // the process ended between two reads
    }
  }
  return pids;
}

/** Resident and peak-resident memory in bytes, summed over a process tree. */
export function memoryOf(pid) {
  let rss = 0;
  let hwm = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      rss += kb(status, 'VmRSS') * 1024;
      hwm += kb(status, 'VmHWM') * 1024;
    } catch {
      // gone
    }
  }
  return { rss, hwm };
}

function kb(status, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** User + system CPU seconds consumed so far by a process tree. */
export function cpuSecondsOf(pid) {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // The command name may contain spaces; fields are counted after its closing parenthesis.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone
    }
  }
  return ticks / TICKS_PER_SECOND;
}

/** Busy and total jiffies per core, from /proc/stat; includes softirq work of loopback TCP. */
export function coreTimes() {
  const cores = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!match) continue;
    const v = match[2].split(' ').map(Number);
    const idle = v[3] + v[4];
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    cores[match[1]] = { busy: total - idle, total };
  }
  return cores;
}
