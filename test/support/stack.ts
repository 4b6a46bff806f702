// A real simulator and a real gateway on ephemeral ports, as a test's upstream and server.
import { resolveConfig, type Config } from '../../src/config/config.js';
import { validateRaw } from '../../src/config/load.js';
import { simulatedConfig } from '../../src/config/simulated.js';
import { createLogger } from '../../src/observability/logger.js';
import { startGateway, type Gateway } from '../../src/server.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

export interface Stack {
  simulatorUrl: string;
  simulator: RunningSimulator;
  gateway: Gateway;
  /** The gateway's OpenAI base URL, e.g. http://127.0.0.1:PORT/v1 */
  baseURL: string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Build the config from the simulator's URL; default: every simulated model. */
  config?: (simulatorUrl: string) => Config;
  pacing?: 'realistic' | 'instant';
  /** Makes the simulator demand this key, so tests see that the gateway sends it. */
  simulatorApiKey?: string;
  /** Open storage before listening, as `serve` does (usage records are kept from the first request). */
  eagerStorage?: boolean;
  /** Keep the configuration's client limits and load shedding (otherwise lifted for tests). */
  keepTrafficControl?: boolean;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const simulator = await startSimulator({ host: '127.0.0.1', port: 0, pacing: options.pacing ?? 'instant', apiKey: options.simulatorApiKey });
  const config = (options.config ?? simulatedConfig)(simulator.url);
  config.server.host = '127.0.0.1';
  config.server.port = 0;
  // Stored state stays in memory unless a test points it elsewhere (never ./data).
  if (config.storage.data_dir === './data/pglite') config.storage.data_dir = 'memory://';
  // Tests send many requests from one address on a busy machine: the free-tier limits and load
  // shedding stay out of the way unless a test asks for them.
  if (!options.keepTrafficControl) {
    config.overload.enabled = false;
    for (const tier of Object.values(config.limits.tiers)) {
      for (const limit of ['rpm', 'tpm', 'concurrency', 'daily_requests', 'daily_tokens'] as const) delete tier[limit];
    }
  }
  const gateway = await startGateway(config, createLogger(process.env.LOG_LEVEL ?? 'silent'), { processMetrics: false, eagerStorage: options.eagerStorage ?? false });
  return {
    simulatorUrl: simulator.url,
    simulator,
    gateway,
    baseURL: `${gateway.url}/v1`,
    async close() {
      await gateway.shutdown(0);
      await simulator.close();
    },
  };
}

/** A config from a plain object, the way a YAML file would give it. */
export function configFrom(raw: unknown): Config {
  return resolveConfig(validateRaw(raw), { kind: 'file', path: 'test' });
}
