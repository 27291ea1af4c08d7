// `npm run purge -- [--days N] [--dry-run] [--batch-size N]`: deletes finished and expired
// verifications last updated N days ago or earlier (default PHONE_VERIFICATION_RECORD_RETENTION_DAYS)
// from DATABASE_URL and prints how many went (or, with --dry-run, how many would go), like
// django-phone-verify's cleanup command; and the idempotency keys past their 24 hours. Safe beside running replicas: it deletes in small batches
// and pauses between them, so the service's writes keep their turn (on SQLite, at the one write lock).
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadDotEnv } from '../config.js';
import { DEFAULT_BATCH_SIZE, purgeVerifications } from '../retention/purge.js';
import { openDatabase } from '../storage/database.js';

const USAGE = 'usage: npm run purge -- [--days N] [--dry-run] [--batch-size N]';

function fail(message: string): never {
  process.stderr.write(`phone-verify purge: ${message}\n`);
  process.exit(1);
}

function wholeNumber(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min)
    fail(`--${name}: expected a whole number ≥ ${min} (got "${raw}")`);
  return Number(raw);
}

function parseArguments() {
  try {
    return parseArgs({
      options: {
        days: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        'batch-size': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
}

const args = parseArguments();
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

let config: ReturnType<typeof loadConfig>;
try {
  loadDotEnv();
  config = loadConfig(process.env);
} catch (error) {
  fail(error instanceof ConfigError ? error.message : String(error));
}
const days = wholeNumber('days', args.days, config.recordRetentionDays, 0);
const batchSize = wholeNumber('batch-size', args['batch-size'], DEFAULT_BATCH_SIZE, 1);
const dryRun = args['dry-run'] === true;

try {
  const database = await openDatabase(config.databaseKind, config.databaseUrl, {
    timeoutMs: config.databaseTimeoutMs,
  });
  try {
    const result = await purgeVerifications(database, { days, batchSize, dryRun });
    const what = `finished or expired verification(s) last updated before ${result.cutoff.toISOString()} (${days} day(s) ago)`;
    const keys = `${result.idempotencyKeys} expired idempotency key(s)`;
    process.stdout.write(
      dryRun
        ? `would delete ${result.count} ${what}\nwould delete ${keys}\n`
        : `deleted ${result.count} ${what} in ${result.batches} batch(es)\ndeleted ${keys}\n`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  const message = (error as Error).message.split('\n')[0] ?? '';
  // A database the service never started on has no tables yet: say what to do, not what broke.
  if (/no such table|relation .* does not exist/i.test(message)) {
    fail('the database has no phone-verify tables yet: start the service once or run `npm run migrate`');
  }
  fail(`failed: ${message}`);
}
