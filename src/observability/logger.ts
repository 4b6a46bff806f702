// One pino logger for the process. Authorization headers and keys are redacted wherever they appear.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({
    level,
    base: { service: 'floodgate' },
    redact: {
      paths: ['req.headers.authorization', 'headers.authorization', '*.api_key', '*.apiKey', 'apiKey', 'api_key'],
      censor: '[redacted]',
    },
  });
}

/** What may be logged of an unexpected error: never its stack or message (they can hold URLs). */
export function describeError(error: unknown): { name: string; code?: string } {
  const e = error as { name?: unknown; code?: unknown } | null;
  return {
    name: typeof e?.name === 'string' ? e.name : typeof error,
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
  };
}
