// Storage opened once, on first need. `serve` opens it at start-up (migrations run before the
// first request); tests that never touch stored state never pay for an embedded database (PGlite
// takes seconds and hundreds of MB to start). A failed open is not remembered: the next request
// tries again, so a database that comes up late is picked up without a restart.
import { GatewayError } from '../core/errors.js';
import type { History } from './history.js';

export class HistoryHandle {
  private opening: Promise<History> | undefined;
  private opened: History | undefined;

  constructor(private readonly open: () => Promise<History>) {}

  get(): Promise<History> {
    if (this.opened) return Promise.resolve(this.opened);
    this.opening ??= this.open().then(
      (history) => {
        this.opened = history;
        return history;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw new GatewayError('Storage is not available right now; try again shortly.', {
          status: 503, type: 'service_unavailable', code: 'storage_unavailable', shedding: true, retryable: true, retryAfterSeconds: 5, cause: error,
        });
      },
    );
    return this.opening;
  }

  /** The history if it is open (usage records go there only once storage is up). */
  current(): History | undefined {
    return this.opened;
  }

  /** Drains and closes whatever was opened; true when nothing pending was left behind. */
  async close(drainMs: number): Promise<boolean> {
    const history = this.opened ?? (await this.opening?.catch(() => undefined));
    if (!history) return true;
    const drained = await history.drain(drainMs);
    await history.close();
    return drained;
  }
}
