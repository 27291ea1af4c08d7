// The database handle: the Prisma client and the stores' driver-adapter connection are one
// connection (pool), both usable, released once however often close() is called.
import type { Test } from 'tap';
import t from 'tap';
import type { DatabaseKind } from '../../src/config.js';
import { openDatabase } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { SqlVerificationStore } from '../../src/storage/verification-store.js';
import { postgresAvailable, postgresUrl, sqliteUrl } from '../helper.js';

const quiet = { info() {}, warn() {} };

async function checks(t: Test, kind: DatabaseKind, url: string): Promise<void> {
  await migrate(kind, url, quiet);
  const database = await openDatabase(kind, url);
  const store = new SqlVerificationStore(database);
  const now = new Date('2026-01-01T00:00:00.000Z');
  const first = await store.insertPending({
    id: 'v1',
    serviceId: 'default',
    phoneNumber: '+14155550100',
    tokenHash: 'token-hash',
    codeHash: 'code-hash',
    backend: 'console',
    locale: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 60_000),
  });
  // SQLite tells whether there is anything to supersede; PostgreSQL cannot know, and says "maybe".
  const others = (pending: boolean) => ({ othersPending: kind === 'sqlite' ? pending : true });
  t.same(first, others(false), 'the first session of a number has no others');
  const session = (id: string, phoneNumber = '+14155550100') => ({
    id,
    serviceId: 'default',
    phoneNumber,
    tokenHash: `token-${id}`,
    codeHash: 'code-hash',
    backend: 'console',
    locale: null,
    createdAt: now,
    expiresAt: new Date(now.getTime() + 60_000),
  });
  t.same(await store.insertPending(session('v2')), others(true), 'v1 is pending');
  t.same(
    await store.insertPending(session('w1', '+14155550111')),
    others(false),
    'other numbers do not count',
  );
  t.equal(await store.supersedeOthers('default', '+14155550100', 'v2', now), 1, 'v1 is canceled');
  t.same(await store.insertPending(session('v0')), others(true), 'v2 is still pending');
  t.equal(await store.supersedeOthers('default', '+14155550100', 'v0', now), 0, 'v2 is newer than v0: kept');
  await store.markFailed('v2', now);
  await store.markFailed('v0', now);
  t.same(await store.insertPending(session('v3')), others(false), 'canceled and failed ones do not count');
  const record = await store.findById('v1');
  t.equal(record?.status, 'canceled');
  t.equal(record?.createdAt.toISOString(), now.toISOString(), 'times round-trip exactly');

  const rows = await database.client.$queryRawUnsafe<{ id: string }[]>(
    'SELECT id FROM verifications ORDER BY id',
  );
  t.same(
    rows.map((row) => row.id),
    ['v0', 'v1', 'v2', 'v3', 'w1'],
    'the Prisma client sees what the store wrote',
  );
  await database.client.$disconnect();
  t.equal(
    (await store.findById('v1'))?.id,
    'v1',
    "the client's disconnect leaves the store's connection open",
  );

  await store.close();
  await t.resolves(store.close(), 'a second close is harmless');
}

t.test('sqlite', async (t) => checks(t, 'sqlite', await sqliteUrl(t)));

t.test('postgresql', async (t) => {
  if (!(await postgresAvailable(t))) return;
  await checks(t, 'postgresql', await postgresUrl(t));
});
