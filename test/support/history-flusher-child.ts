// `floodgate flush` as a separate process, for tests that kill it (kill -9 at the crash point).
// The storage section comes as JSON in FLOODGATE_TEST_STORAGE; it stops on SIGTERM or SIGINT.
import { pino } from 'pino';
import { runFlushers } from '../../src/history/run-flushers.js';

const storage = JSON.parse(process.env.FLOODGATE_TEST_STORAGE ?? 'null');
if (!storage) throw new Error('FLOODGATE_TEST_STORAGE is not set');
await runFlushers(storage, pino({ level: 'silent' }), { onReady: () => process.stdout.write('flushers ready\n') });
