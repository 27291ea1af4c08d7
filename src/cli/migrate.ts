// `npm run migrate`: applies pending database migrations for DATABASE_URL and exits.
import pino from 'pino';
import { ConfigError, loadConfig } from '../config.js';
import { migrate } from '../storage/migrate.js';

try {
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel });
  const applied = await migrate(config.databaseKind, config.databaseUrl, logger);
  if (applied.length === 0) logger.info('database is up to date');
} catch (error) {
  const message =
    error instanceof ConfigError ? error.message : `migration failed: ${(error as Error).message}`;
  process.stderr.write(`phone-verify: ${message}\n`);
  process.exit(1);
}
