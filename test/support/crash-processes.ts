// Real `floodgate serve` and `floodgate flush` processes for the crash and drain tests: started
// from source with tsx, killed with a signal of the test's choosing, their output watched for the
// listening banner, the flushers' start and their crash-point line (FLOODGATE_CRASHPOINT_AFTER_COMMIT_MS).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Variables that would point a child at someone else's state; the tests set what they need. */
const INHERITED_STATE = [
  'DATABASE_URL', 'REDIS_URL', 'FLOODGATE_CONFIG', 'FLOODGATE_DATA_DIR', 'FLOODGATE_SESSION_SECRET',
  'FLOODGATE_CRASHPOINT_AFTER_COMMIT_MS', 'PORT', 'HOST',
];

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface FloodgateProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<Exit>;
  /** The tail of what it wrote (stdout and stderr), for failure messages. */
  output(): string;
  /** Called with each complete line it writes (stdout: its JSON log; stderr: banner, crash points). */
  onLine(listener: (line: string) => void): void;
  /** Sends `signal` unless it has exited already. */
  kill(signal: NodeJS.Signals): void;
}

const TAIL = 20_000;

/** `node --import tsx src/main.ts <args>` with `env` over a copy of this process' environment minus state variables. */
export function spawnFloodgate(args: readonly string[], env: Record<string, string>): FloodgateProcess {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const name of INHERITED_STATE) delete base[name];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    env: { ...base, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`could not start floodgate ${args.join(' ')}`);
  let tail = '';
  const listeners: Array<(line: string) => void> = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    let partial = '';
    stream.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      tail = (tail + text).slice(-TAIL);
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) for (const listener of listeners) listener(line);
    });
  }
  let done = false;
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => {
    done = true;
    resolve({ code, signal });
  }));
  return {
    child,
    pid: child.pid,
    exited,
    output: () => tail,
    onLine: (listener) => listeners.push(listener),
    kill(signal) {
      if (!done) child.kill(signal);
    },
  };
}

/** Resolves once `child` writes a line matching `pattern`; rejects if it exits first or the time is up. */
export function lineMatching(child: FloodgateProcess, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${child.output()}`)), timeoutMs);
    child.onLine((line) => {
      const found = pattern.exec(line);
      if (found) {
        clearTimeout(timer);
        resolve(found);
      }
    });
    void child.exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`exited (${exit.code ?? exit.signal}) before writing a line matching ${pattern}:\n${child.output()}`));
    });
  });
}

/** Resolves with the base URL (http://host:port) once `serve` prints its banner. */
export async function listeningUrl(gateway: FloodgateProcess, timeoutMs = 30_000): Promise<string> {
  return (await lineMatching(gateway, /Floodgate is listening on (http:\/\/\S+)\/v1/, timeoutMs))[1]!;
}

/** Resolves once `floodgate flush` runs its loops (it logs so at level info); call it right after the spawn. */
export async function flusherReady(flusher: FloodgateProcess, timeoutMs = 30_000): Promise<void> {
  await lineMatching(flusher, /flushing history from redis to the database/, timeoutMs);
}

/** The number in a flusher's crash-point line, or undefined for any other line. */
export function crashPointEntries(line: string): number | undefined {
  const found = /^floodgate-crashpoint: committed (\d+) entries/.exec(line);
  return found ? Number(found[1]) : undefined;
}

/** A scratch directory for config files, removed by remove(). */
export function scratchDir(): { path(name: string): string; write(name: string, text: string): string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'floodgate-crash-'));
  return {
    path: (name) => join(dir, name),
    write(name, text) {
      const file = join(dir, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A floodgate YAML config: one chat model `chat` on the simulator at `simulatorUrl`, and `storage`. */
export function configYaml(simulatorUrl: string, storage: Record<string, unknown>, server: Record<string, unknown> = {}): string {
  // JSON is YAML, and it quotes the URLs (a schema in search_path makes them awkward to write plain).
  return JSON.stringify({
    server: { port: 0, access_log: false, ...server },
    storage,
    // Every client here comes from 127.0.0.1 on a busy machine: no free-tier limits, no shedding.
    limits: { tiers: { anonymous: {} } },
    overload: { enabled: false },
    providers: { sim: { base_url: simulatorUrl } },
    deployments: { 'chat-a': { provider: 'sim', model: 'sim-chat' } },
    models: { chat: { deployments: ['chat-a'] } },
  }, null, 2);
}

