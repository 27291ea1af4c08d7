// The scheduled purge inside the running app: it removes old finished sessions on its own (short
// PURGE_INTERVAL), counts them in /metrics, keeps fresh sessions, and PURGE_INTERVAL=off disables it.
import { setTimeout as sleep } from 'node:timers/promises';
import t from 'tap';
import { loadConfig } from '../../../src/config.js';
import { openDatabase } from '../../../src/storage/database.js';
import { build, metric, sqliteUrl, startVerification } from '../../helper.js';
import { countRows, insertRows } from '../../retention/fixtures.js';

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  // generous: this waits for a timer, it does not measure one
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test('the schedule purges old sessions and counts them', async (t) => {
  const url = await sqliteUrl(t);
  const database = await openDatabase('sqlite', url);
  t.teardown(() => database.close());
  await insertRows(database, [
    { status: 'approved', updatedDaysAgo: 31, expiresDaysAgo: 31, sends: 1 },
    { status: 'canceled', updatedDaysAgo: 50, expiresDaysAgo: 50 },
  ]);

  const target = await build(t, { env: { DATABASE_URL: url, PURGE_INTERVAL: '100' } });
  await startVerification(target);
  // The counter moves when the whole run is over (sessions, then idempotency keys): waiting on the
  // rows alone would look in the middle of the run.
  const purgedTotal = () => metric(target, 'phone_verify_purged_verifications_total');
  await until(async () => (await purgedTotal()) > 0, 'the scheduled purge');
  t.equal(await purgedTotal(), 2, 'counted in /metrics');
  t.equal(await countRows(database, 'verifications'), 1, 'the fresh session is left');
  t.equal(await countRows(database, 'send_attempts'), 1, "only the fresh session's send is left");
  t.ok(
    target.logs.entries.some((entry) =>
      /^purged 2 verification\(s\) older than 30 day\(s\)$/.test(String(entry.msg)),
    ),
    'logged',
  );
  t.equal((await target.app.retention.runNow()).count, 0, 'the fresh session stays');
});

t.test('PURGE_INTERVAL=off leaves old sessions to npm run purge', async (t) => {
  const url = await sqliteUrl(t);
  const database = await openDatabase('sqlite', url);
  t.teardown(() => database.close());
  await insertRows(database, [{ status: 'approved', updatedDaysAgo: 31, expiresDaysAgo: 31 }]);
  const target = await build(t, { env: { DATABASE_URL: url, PURGE_INTERVAL: 'off' } });
  t.equal(target.config.purgeIntervalMs, 0);
  // runNow works whatever the schedule: it is what the schedule calls.
  await sleep(300);
  t.equal(await countRows(database, 'verifications'), 1, 'nothing purged on its own');
  t.equal((await target.app.retention.runNow()).count, 1);
});

t.test('PURGE_INTERVAL is validated', async (t) => {
  t.equal(loadConfig({}).purgeIntervalMs, 3_600_000, 'hourly by default');
  t.equal(loadConfig({ PURGE_INTERVAL: '15 minutes' }).purgeIntervalMs, 900_000);
  t.equal(loadConfig({ PURGE_INTERVAL: '0' }).purgeIntervalMs, 0);
  t.throws(() => loadConfig({ PURGE_INTERVAL: 'sometimes' }), {
    name: 'ConfigError',
    message: /^PURGE_INTERVAL: expected .* \(got "sometimes"\)$/,
  });
});
