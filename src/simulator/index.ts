// Public entry of the simulated upstream: start it in-process (tests, the gateway's zero-config
// mode) or from the command line (`floodgate simulate`).
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { createSimulatorServer } from './server.js';
import type { PacingMode } from './pacing.js';

export { SIM_MODELS, findSimModel, simModelCards, toModelCard, type SimModel, type SimPacing } from './models.js';
export type { PacingMode } from './pacing.js';

export interface SimulatorOptions {
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  pacing?: PacingMode;
  apiKey?: string;
}

export interface RunningSimulator {
  /** Base URL for OpenAI clients, e.g. http://127.0.0.1:PORT/v1 */
  url: string;
  port: number;
  /** Number of SSE streams in flight right now. */
  openStreams(): number;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const host = options.host ?? '127.0.0.1';
  const { server, openStreams } = createSimulatorServer({ pacing: options.pacing, apiKey: options.apiKey });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${port}/v1`,
    port,
    openStreams,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Destroy open (streaming or keep-alive) sockets so close() never waits on a client.
        server.closeAllConnections();
      }),
  };
}

const USAGE = `usage: floodgate simulate [--host 127.0.0.1] [--port 8787] [--pacing realistic|instant] [--api-key KEY]`;

/** Runs the simulator until SIGINT/SIGTERM. Returns the process exit code. */
export async function runSimulatorCli(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: 'string', default: '127.0.0.1' },
        port: { type: 'string', default: '8787' },
        pacing: { type: 'string', default: 'realistic' },
        'api-key': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`invalid --port "${values.port}"\n${USAGE}`);
    return 2;
  }
  if (values.pacing !== 'realistic' && values.pacing !== 'instant') {
    console.error(`invalid --pacing "${values.pacing}" (realistic or instant)\n${USAGE}`);
    return 2;
  }
  const sim = await startSimulator({ host: values.host, port, pacing: values.pacing, apiKey: values['api-key'] });
  console.log(`floodgate simulator listening on ${sim.url} (pacing: ${values.pacing})`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  return 0;
}
