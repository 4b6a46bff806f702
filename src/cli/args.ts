// Command-line parsing only: which command, and its options. No side effects here.
import { parseArgs } from 'node:util';

export interface CliArgs {
  command: 'serve' | 'flush' | 'new-key' | 'help';
  config?: string;
  host?: string;
  port?: number;
}

export const USAGE = `Usage:
  floodgate serve    [--config floodgate.yaml] [--host 127.0.0.1] [--port 8080]
  floodgate simulate [--host 127.0.0.1] [--port 9000] [--pacing realistic|instant]
  floodgate flush    [--config floodgate.yaml]   only write history from Redis to the database
  floodgate new-key                              print a new API key and its configuration line

Environment: FLOODGATE_CONFIG, HOST, PORT, LOG_LEVEL, DATABASE_URL, REDIS_URL,
FLOODGATE_SESSION_SECRET, and provider variables such as
OPENAI_API_KEY, MISTRAL_API_KEY, GROQ_API_KEY, OPENROUTER_API_KEY, OLLAMA_BASE_URL.`;

export class UsageError extends Error {}

export function parseCli(argv: string[]): CliArgs {
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string', short: 'p' },
      help: { type: 'boolean', short: 'h' },
    },
    }) as typeof parsed;
  } catch (error) {
    // Node's messages here are clear ("Unknown option '--prot'"); only the exit path changes.
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { command: 'help' };
  const command = positionals[0] ?? 'serve';
  if (command !== 'serve' && command !== 'flush' && command !== 'new-key') throw new UsageError(`unknown command "${command}"`);
  const args: CliArgs = { command };
  if (typeof values.config === 'string') args.config = values.config;
  if (typeof values.host === 'string') args.host = values.host;
  if (typeof values.port === 'string') args.port = parsePort(values.port, '--port');
  return args;
}

export function parsePort(text: string, source: string): number {
  const port = text.trim() === '' ? NaN : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`${source} must be a port number, got "${text}"`);
  return port;
}
