// `npm run migrate`: applies pending database migrations for DATABASE_URL (environment, then ./.env)
// and exits.
import pino from 'pino';
import { ConfigError, loadConfig, loadDotEnv } from '../config.js';
import { migrate } from '../storage/migrate.js';

try {
  loadDotEnv();
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel, timestamp: pino.stdTimeFunctions.isoTime });
  const applied = await migrate(config.databaseKind, config.databaseUrl, logger);
  if (applied.length === 0) logger.info('database is up to date');
} catch (error) {
  const message =
    error instanceof ConfigError ? error.message : `migration failed: ${(error as Error).message}`;
  process.stderr.write(`phone-verify: ${message}\n`);
  process.exit(1);
}
