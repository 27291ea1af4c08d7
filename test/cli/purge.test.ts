// `npm run purge`: the CLI as users run it (node dist/cli/purge.js) on a real SQLite file, printing
// what it would delete and what it deleted, and refusing bad arguments in one line.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { openDatabase } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { countRows, insertIdempotencyKeys, insertRows } from '../retention/fixtures.js';
import { BASE_ENV, ensureBuilt, SERVICE_ROOT, scratchDir } from '../service-process.js';

const run = promisify(execFile);
const cli = join(SERVICE_ROOT, 'dist', 'cli', 'purge.js');
t.before(ensureBuilt);

function purge(args: string[], env: Record<string, string>) {
  // Its own working folder: no .env of the checkout is read.
  return run(process.execPath, [cli, ...args], {
    cwd: scratchDir(t),
    env: { ...BASE_ENV, LOG_LEVEL: 'silent', ...env },
  });
}

/** A migrated SQLite file (not the test helper's: that one loads the whole app). */
async function sqliteUrl(t: Test): Promise<string> {
  const url = `file:${join(scratchDir(t, 'pv-purge-'), 'pv.db')}`;
  await migrate('sqlite', url, { info() {}, warn() {} });
  return url;
}

t.test('--dry-run prints the count and deletes nothing; then --days N deletes', async (t) => {
  const url = await sqliteUrl(t);
  const database = await openDatabase('sqlite', url);
  t.teardown(() => database.close());
  await insertRows(database, [
    { status: 'approved', updatedDaysAgo: 12, expiresDaysAgo: 12, sends: 1 },
    { status: 'canceled', updatedDaysAgo: 8, expiresDaysAgo: 8 },
    { status: 'failed', updatedDaysAgo: 3, expiresDaysAgo: 3 },
    { status: 'pending', updatedDaysAgo: 0, expiresDaysAgo: -0.04 },
  ]);
  await insertIdempotencyKeys(database, [2, 0.5, -0.5]);

  const dry = await purge(['--days', '7', '--dry-run'], { DATABASE_URL: url });
  t.match(
    dry.stdout,
    /^would delete 2 finished or expired verification\(s\) last updated before \S+ \(7 day\(s\) ago\)\nwould delete 2 expired idempotency key\(s\)\n$/,
  );
  t.equal(await countRows(database, 'verifications'), 4);
  t.equal(await countRows(database, 'idempotency_keys'), 3);

  const real = await purge(['--days', '7', '--batch-size', '1'], { DATABASE_URL: url });
  t.match(real.stdout, /^deleted 2 .* in 2 batch\(es\)\ndeleted 2 expired idempotency key\(s\)\n$/);
  t.equal(await countRows(database, 'idempotency_keys'), 1, 'the live key stays');
  t.equal(await countRows(database, 'verifications'), 2);
  t.equal(await countRows(database, 'send_attempts'), 0);

  const byDefault = await purge([], { DATABASE_URL: url, PHONE_VERIFICATION_RECORD_RETENTION_DAYS: '2' });
  t.match(byDefault.stdout, /^deleted 1 .*\(2 day\(s\) ago\)/, 'days default to the retention setting');
});

t.test('bad arguments stop with a one-line error and exit 1', async (t) => {
  const url = await sqliteUrl(t);
  const [wrongDays, unknown, badConfig] = await Promise.all(
    [
      purge(['--days', 'ten'], { DATABASE_URL: url }),
      purge(['--all'], { DATABASE_URL: url }),
      purge([], { DATABASE_URL: 'mysql://x' }),
    ].map((running) => running.catch((error) => error)),
  );
  t.equal(wrongDays.code, 1);
  t.match(wrongDays.stderr, /--days: expected a whole number/);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /usage: npm run purge/);
  t.equal(badConfig.code, 1);
  t.match(badConfig.stderr, /DATABASE_URL/);
});
