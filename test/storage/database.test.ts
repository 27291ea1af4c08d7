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
  await store.insertPending({
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
  const record = await store.findById('v1');
  t.equal(record?.status, 'pending');
  t.equal(record?.createdAt.toISOString(), now.toISOString(), 'times round-trip exactly');

  const rows = await database.client.$queryRawUnsafe<{ id: string }[]>('SELECT id FROM verifications');
  t.same(
    rows.map((row) => row.id),
    ['v1'],
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
