// The process: configuration → app → listen, and a graceful stop on SIGTERM/SIGINT (stop
// accepting, finish in-flight requests, close the database, exit 0).
import Fastify from 'fastify';
import app from './app.js';
import { closeConnectionsOnStop } from './close-connections.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { tuneHeap } from './heap-tuning.js';
import { serverOptions } from './server-options.js';

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
  try {
    config = loadConfig(process.env);
  } catch (error) {
    die(startupFailure(error));
  }

  const server = Fastify(serverOptions(config));
  closeConnectionsOnStop(server);
  server.register(app, { config });
  try {
    await server.ready();
  } catch (error) {
    die(startupFailure(error));
  }

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
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
    die(`cannot listen on ${config.host}:${config.port} (PORT/HOST): ${(error as Error).message}`);
  }
}

await main();
