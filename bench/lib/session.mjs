// Shields a benchmark from the rest of a shared machine, as bench/run.mjs does: Linux groups CPU
// time by session ("autogroup") before it looks at nice values, so the benchmark re-executes
// itself in its own session and raises that session's weight; every child inherits both.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

const MARK = 'FLOODGATE_BENCH_SESSION';

/**
 * Runs `main` in a new session: the first call re-executes `entryFile` under `setsid` and passes
 * Ctrl-C on (the terminal's signal reaches only this parent); inside, it just calls `main`.
 */
export function inOwnSession(entryFile, main) {
  if (process.env[MARK] === '1' || process.argv.includes('--help') || process.argv.includes('-h')) return main();
  const child = spawn('setsid', ['-w', process.execPath, entryFile, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 130 : 1)));
  return undefined;
}

/** Raises this session's CPU weight (needs root); returns a note when it could not. */
export function raisePriority() {
  try {
    writeFileSync('/proc/self/autogroup', '-10');
    setPriority(-10);
    return undefined;
  } catch {
    return 'could not raise scheduling priority (needs root): other processes may disturb the run.';
  }
}
