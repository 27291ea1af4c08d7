// Retention purge on real SQLite and PostgreSQL databases: old finished and expired sessions go
// (with their send attempts), pending and recent ones stay, a dry run deletes nothing, and the
// work is split into batches; idempotency keys past their 24 hours go in the same run.
import t, { type Test } from 'tap';
import { cutoffFor, purgeVerifications } from '../../src/retention/purge.js';
import { type Database, openDatabase } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { postgresAvailable, postgresUrl, sqliteUrl } from '../helper.js';
import { countRows, insertIdempotencyKeys, insertRows, type Row, remainingIds } from './fixtures.js';

const quiet = { info() {}, warn() {} };

/** Eligible at 30 days: the first five. */
const MIXED: Row[] = [
  { status: 'approved', updatedDaysAgo: 40, expiresDaysAgo: 40, sends: 2 },
  { status: 'failed', updatedDaysAgo: 31, expiresDaysAgo: 31, sends: 1 },
  { status: 'canceled', updatedDaysAgo: 45, expiresDaysAgo: 44 },
  { status: 'locked', updatedDaysAgo: 35, expiresDaysAgo: 35 },
  { status: 'pending', updatedDaysAgo: 60, expiresDaysAgo: 59, sends: 1 }, // expired long ago
  // kept:
  { status: 'approved', updatedDaysAgo: 29, expiresDaysAgo: 29, sends: 1 }, // finished, recent
  { status: 'locked', updatedDaysAgo: 1, expiresDaysAgo: 2 }, // recent
  { status: 'pending', updatedDaysAgo: 0, expiresDaysAgo: -0.04, sends: 1 }, // live
  // a pending session's code checked after expiry: last touched recently, so it stays for now
  { status: 'pending', updatedDaysAgo: 10, expiresDaysAgo: 40 },
];

async function databases(t: Test): Promise<[string, () => Promise<Database>][]> {
  const list: [string, () => Promise<Database>][] = [
    [
      'sqlite',
      async () => {
        const database = await openDatabase('sqlite', await sqliteUrl(t));
        t.teardown(() => database.close());
        return database;
      },
    ],
  ];
  if (await postgresAvailable(t)) {
    list.push([
      'postgresql',
      async () => {
        const url = await postgresUrl(t);
        await migrate('postgresql', url, quiet);
        const database = await openDatabase('postgresql', url);
        // before the database is dropped (teardowns run in reverse order)
        t.teardown(() => database.close());
        return database;
      },
    ]);
  }
  return list;
}

t.test('cutoffFor counts whole days back from now', async (t) => {
  const now = new Date('2026-03-31T12:00:00.000Z');
  t.equal(cutoffFor(30, now).toISOString(), '2026-03-01T12:00:00.000Z');
});

t.test('purge', async (t) => {
  for (const [kind, open] of await databases(t)) {
    t.test(`${kind}: old finished and expired sessions go, the rest stay`, async (t) => {
      const database = await open();
      const ids = await insertRows(database, MIXED);

      const dry = await purgeVerifications(database, { days: 30, dryRun: true });
      t.equal(dry.count, 5, 'dry run counts the eligible sessions');
      t.equal(dry.batches, 0);
      t.equal(await countRows(database, 'verifications'), MIXED.length, 'dry run deletes nothing');

      const result = await purgeVerifications(database, { days: 30 });
      t.equal(result.count, 5);
      t.same(await remainingIds(database), ids.slice(5).sort(), 'pending, recent and live sessions kept');
      t.equal(await countRows(database, 'send_attempts'), 2, "deleted sessions' send attempts are gone too");

      const again = await purgeVerifications(database, { days: 30 });
      t.equal(again.count, 0, 'a second run finds nothing: running twice (or on two replicas) is harmless');
      t.equal(await countRows(database, 'verifications'), 4);
    });

    t.test(`${kind}: a shorter retention reaches the recent finished ones`, async (t) => {
      const database = await open();
      await insertRows(database, MIXED);
      const result = await purgeVerifications(database, { days: 0.5 });
      // everything but the live pending session
      t.equal(result.count, MIXED.length - 1);
      t.equal(await countRows(database, 'verifications'), 1);
    });

    t.test(`${kind}: expired idempotency keys go with the sessions, live ones stay`, async (t) => {
      const database = await open();
      await insertRows(database, MIXED);
      // 12 expired (from a minute to 40 days ago), 3 still live
      await insertIdempotencyKeys(database, [
        ...Array.from({ length: 11 }, (_, i) => 40 - i * 3),
        1 / 1440,
        -0.5,
        -0.9,
        -0.01,
      ]);
      const dry = await purgeVerifications(database, { days: 30, dryRun: true });
      t.equal(dry.idempotencyKeys, 12, 'dry run counts the expired keys');
      t.equal(await countRows(database, 'idempotency_keys'), 15, 'and deletes none');

      const result = await purgeVerifications(database, { days: 30, batchSize: 5 });
      t.equal(result.idempotencyKeys, 12, 'in batches of 5: 5 + 5 + 2');
      t.equal(result.count, 5, 'the sessions as before');
      t.equal(await countRows(database, 'idempotency_keys'), 3, 'the live keys stay');
      t.equal((await purgeVerifications(database, { days: 30 })).idempotencyKeys, 0, 'nothing left to purge');
    });

    t.test(`${kind}: deletes in batches of batchSize`, async (t) => {
      const database = await open();
      const old: Row = { status: 'approved', updatedDaysAgo: 90, expiresDaysAgo: 90 };
      await insertRows(database, [
        ...Array.from({ length: 25 }, () => old),
        { status: 'pending', updatedDaysAgo: 0, expiresDaysAgo: -1 },
      ]);
      const result = await purgeVerifications(database, { days: 30, batchSize: 10 });
      t.equal(result.count, 25);
      t.equal(result.batches, 3, '10 + 10 + 5');
      t.equal(await countRows(database, 'verifications'), 1);

      await insertRows(
        database,
        Array.from({ length: 20 }, () => old),
      );
      const exact = await purgeVerifications(database, { days: 30, batchSize: 10 });
      t.equal(exact.count, 20);
      t.equal(exact.batches, 2, 'two DELETEs; the look after a full batch finds nothing');
    });
  }
});

t.test('refuses a batch size below 1', async (t) => {
  const database = await openDatabase('sqlite', await sqliteUrl(t));
  t.teardown(() => database.close());
  await t.rejects(purgeVerifications(database, { days: 30, batchSize: 0 }), RangeError);
});
