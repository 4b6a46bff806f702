#!/usr/bin/env node
// Process entry: read arguments and configuration, start the gateway or the simulator, drain on SIGTERM.
import { parseCli, parsePort, USAGE, UsageError, type CliArgs } from './cli/args.js';
import { ConfigError, type Config } from './config/config.js';
import { configFromEnvironment, PROVIDER_VARIABLES } from './config/from-env.js';
import { loadConfigFile } from './config/load.js';
import { LOG_LEVELS, storageSchema } from './config/schema.js';
import { simulatedConfig } from './config/simulated.js';
import { createLogger, describeError } from './observability/logger.js';
import { startGateway } from './server.js';

async function main(argv: string[]): Promise<void> {
  // The simulator parses its own options (it is also usable without the gateway's).
  if (argv[0] === 'simulate') {
    const { runSimulatorCli } = await import('./simulator/index.js');
    process.exitCode = await runSimulatorCli(argv.slice(1));
    return;
  }
  const args = parseCli(argv);
  if (args.command === 'help') {
    console.log(USAGE);
    return;
  }
  if (args.command === 'new-key') {
    const { newApiKey } = await import('./identity/api-keys.js');
    const { key, sha256 } = newApiKey();
    process.stdout.write(`${key}\n`);
    process.stderr.write(`Give the key above to its user; it is shown once. In the configuration, only its hash:\n\nauth:\n  api_keys:\n    - { id: NAME, sha256: ${sha256} }\n`);
    return;
  }
  if (args.command === 'flush') {
    await flushOnly(args);
    return;
  }
  await serve(args);
}

/** Environment variables that name where state lives override the file. */
function applyStorageEnvironment(config: Config, env: NodeJS.ProcessEnv): void {
  if (env.DATABASE_URL) config.storage.database_url = env.DATABASE_URL;
  if (env.REDIS_URL) config.storage.redis_url = env.REDIS_URL;
  if (env.FLOODGATE_DATA_DIR) config.storage.data_dir = env.FLOODGATE_DATA_DIR;
}

/** `floodgate flush`: only move history from Redis to the database, until a signal. */
async function flushOnly(args: CliArgs): Promise<void> {
  const env = process.env;
  const configPath = args.config ?? env.FLOODGATE_CONFIG;
  const storage = configPath ? loadConfigFile(configPath, env).storage : storageSchema.parse({});
  const config = { storage } as Config;
  applyStorageEnvironment(config, env);
  if (!storage.redis_url || !storage.database_url) throw new UsageError('flush needs REDIS_URL and DATABASE_URL (or storage.redis_url and storage.database_url)');
  const logger = createLogger(env.LOG_LEVEL || 'info');
  const { runFlushers } = await import('./history/run-flushers.js');
  await runFlushers(storage, logger);
}

async function serve(args: CliArgs): Promise<void> {
  const env = process.env;
  const configPath = args.config ?? env.FLOODGATE_CONFIG;
  let config: Config;
  let simulator: { close(): Promise<void> } | undefined;
  if (configPath) {
    config = loadConfigFile(configPath, env);
  } else {
    const fromEnv = configFromEnvironment(env);
    if (fromEnv) {
      config = fromEnv;
    } else {
      // Loaded only when needed: the simulator's tokenizer tables cost ~70 MB of heap.
      const { startSimulator } = await import('./simulator/index.js');
      const started = await startSimulator({ host: '127.0.0.1', port: 0, pacing: 'realistic' });
      simulator = started;
      config = simulatedConfig(started.url);
    }
  }
  // Precedence: command line, then HOST/PORT, then the file, then 127.0.0.1:8080.
  // Empty values count as unset: an empty host would silently listen on every interface.
  config.server.host = args.host || env.HOST || config.server.host;
  config.server.port = args.port ?? (env.PORT ? parsePort(env.PORT, 'PORT') : config.server.port);

  applyStorageEnvironment(config, env);

  const level = env.LOG_LEVEL || config.server.log_level;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  const logger = createLogger(level);
  const gateway = await startGateway(config, logger, { eagerStorage: true });
  printBanner(config, gateway.url);

  let signals = 0;
  const stop = (signal: string): void => {
    if (++signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    logger.info({ signal, graceMs: config.server.shutdown_grace_ms }, 'shutting down: draining open requests');
    void gateway
      .shutdown()
      .then(() => simulator?.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: describeError(error) }, 'error during shutdown');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

function printBanner(config: Config, url: string): void {
  const models = [...config.models.keys()].join(', ');
  const lines = [`Floodgate is listening on ${url}/v1  (models: ${models})`];
  if (config.origin.kind === 'simulator') {
    lines.push(
      '',
      '  !! No provider is configured, so these models are SIMULATED: answers are generated text,',
      '  !! not a real language model. To serve real models, set a provider key and restart, e.g.',
      '  !!   OPENAI_API_KEY=sk-... npm start',
      `  !! (also: ${PROVIDER_VARIABLES.filter((v) => v !== 'OPENAI_API_KEY').join(', ')})`,
      '  !! or describe providers in a YAML file: npm start -- --config floodgate.yaml',
      '',
    );
  } else if (config.origin.kind === 'environment') {
    lines.push(`  providers from the environment: ${config.origin.variables.join(', ')}`);
  } else {
    lines.push(`  configuration: ${config.origin.path}`);
  }
  // Where stored state lives; never the URLs themselves, which may carry passwords.
  const database = config.storage.database_url ? 'PostgreSQL' : `PGlite in ${config.storage.data_dir}`;
  lines.push(config.storage.redis_url
    ? `  storage: scale-out: ${database}, hot history in the Redis stream ${config.storage.stream_key}`
    : `  storage: embedded: ${database}, hot history buffered in memory`);
  lines.push(`  try: curl ${url}/v1/chat/completions -H 'content-type: application/json' -d '{"model":"${config.models.keys().next().value ?? 'MODEL'}","messages":[{"role":"user","content":"Hello"}]}'`);
  process.stderr.write(`${lines.join('\n')}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof UsageError) {
    process.stderr.write(`floodgate: ${error.message}\n`);
    if (error instanceof UsageError) process.stderr.write(`\n${USAGE}\n`);
    process.exit(2);
  }
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    process.stderr.write(`floodgate: cannot listen: ${(error as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`floodgate: failed to start (${describeError(error).name})\n`);
  console.error(error);
  process.exit(1);
});
