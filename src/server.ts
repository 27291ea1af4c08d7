// The process: configuration (the environment, then ./.env) → app → listen, and a graceful stop
// on SIGTERM/SIGINT (stop accepting, finish in-flight requests, close the database, exit 0). A
// start that fails prints one line on stderr and nothing else (src/startup-log.ts).
import Fastify from 'fastify';
import app from './app.js';
import { closeConnectionsOnStop } from './close-connections.js';
import { type Config, ConfigError, loadConfig, loadDotEnv } from './config.js';
import { tuneHeap } from './heap-tuning.js';
import { logDestination } from './log-destination.js';
import { loggerOptions, serverOptions } from './server-options.js';
import { StartupLog } from './startup-log.js';

/** How long in-flight requests get to finish after SIGTERM before the process gives up. */
const SHUTDOWN_GRACE_MS = 15_000;

function die(message: string): never {
  process.stderr.write(`phone-verify: ${message}\n`);
  process.exit(1);
}

/** A start-up failure as one line: config errors name their variable or file already. */
function startupFailure(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  const message = error instanceof Error ? error.message : String(error);
  return `failed to start: ${message.split('\n')[0]}`;
}

async function main(): Promise<void> {
  tuneHeap();
  let config: Config;
  let fromDotEnv: string[];
  let startupLog: StartupLog;
  try {
    fromDotEnv = loadDotEnv();
    config = loadConfig(process.env);
    startupLog = new StartupLog(logDestination(config));
  } catch (error) {
    die(startupFailure(error));
  }

  const server = Fastify({
    ...serverOptions(config),
    logger: { ...loggerOptions(config), stream: startupLog },
  });
  // Names only: the values may be secrets.
  if (fromDotEnv.length > 0) server.log.info({ variables: fromDotEnv }, 'settings read from .env');
  closeConnectionsOnStop(server);
  server.register(app, { config });
  try {
    await server.ready();
  } catch (error) {
    startupLog.discard();
    die(startupFailure(error));
  }

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    startupLog.release();
    server.log.info({ signal }, 'stopping: finishing in-flight requests');
    const timer = setTimeout(() => {
      server.log.error('in-flight requests did not finish in time; exiting');
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    timer.unref();
    try {
      await server.close();
      server.log.info('stopped');
      process.exit(0);
    } catch (error) {
      server.log.error({ err: error }, 'error while stopping');
      process.exit(1);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);

  try {
    await server.listen({ port: config.port, host: config.host });
  } catch (error) {
    startupLog.discard();
    die(`cannot listen on ${config.host}:${config.port} (PORT/HOST): ${(error as Error).message}`);
  }
  startupLog.release();
}

await main();
