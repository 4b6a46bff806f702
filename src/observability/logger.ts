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

/** What emits 'error' on every failed attempt and 'ready' once back: an ioredis connection. */
interface Reconnecting {
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

/**
 * Logs one warning per outage of a reconnecting connection and one line when it is back, instead
 * of one per reconnect attempt. `what` names it in both lines; `describe` what is logged of the error.
 */
export function logOutages(connection: Reconnecting, logger: Logger, what: string, describe: (error: unknown) => object = describeError): void {
  let failing = false;
  connection.on('error', (error) => {
    if (failing) return;
    failing = true;
    logger.warn({ err: describe(error) }, `${what} connection failed; reconnecting`);
  });
  connection.on('ready', () => {
    if (failing) logger.info(`${what} connection restored`);
    failing = false;
  });
}
