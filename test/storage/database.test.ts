// The store on each database, end to end on a migrated database: what it writes, what it reads,
// and that the generated Prisma client (schema.prisma) reads the same rows, so the schema, the
// migrations and the dialect's SQL agree. close() is harmless twice.
import type { Test } from 'tap';
import t from 'tap';
import type { DatabaseKind } from '../../src/config.js';
import { openDatabase } from '../../src/storage/database.js';
import { migrate } from '../../src/storage/migrate.js';
import { SqlVerificationStore } from '../../src/storage/verification-store.js';
import { postgresAvailable, postgresUrl, sqliteUrl } from '../helper.js';

const quiet = { info() {}, warn() {} };

interface PrismaVerifications {
  verification: {
    findMany(args: object): Promise<{ id: string; status: string; createdAt: Date; expiresAt: Date }[]>;
  };
  $disconnect(): Promise<void>;
}

/** The generated client of the kind, over Prisma's own driver adapter and connection. */
async function prismaClient(kind: DatabaseKind, url: string): Promise<PrismaVerifications> {
  if (kind === 'sqlite') {
    const { PrismaClient } = await import('../../src/generated/sqlite/client.js');
    const { PrismaBetterSQLite3 } = await import('@prisma/adapter-better-sqlite3');
    return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url }) }) as unknown as PrismaVerifications;
  }
  const { PrismaClient } = await import('../../src/generated/postgresql/client.js');
  const { PrismaPg } = await import('@prisma/adapter-pg');
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: url }),
  }) as unknown as PrismaVerifications;
}

async function checks(t: Test, kind: DatabaseKind, url: string): Promise<void> {
  await migrate(kind, url, quiet);
  const database = await openDatabase(kind, url);
  const store = new SqlVerificationStore(database);
  const now = new Date('2026-01-01T00:00:00.000Z');
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
  // SQLite tells whether there is anything to supersede; PostgreSQL cannot know, and says "maybe".
  const others = (pending: boolean) => ({ othersPending: kind === 'sqlite' ? pending : true });
  t.same(
    await store.insertPending(session('v1')),
    others(false),
    'the first session of a number has no others',
  );
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
  t.equal(await store.findById('nope'), null);

  const check = await store.checkCode('token-v3', '+14155550100', 'code-hash', now, 5);
  t.match(check, { codeMatched: true, record: { id: 'v3', status: 'approved', approvals: 1 } });
  t.equal((await store.checkCode('token-v3', '+14155550100', 'wrong', now, 5))?.codeMatched, false);
  t.equal(await store.checkCode('token-v3', '+14155550199', 'code-hash', now, 5), null, 'another number');
  t.equal((await store.findByToken('token-v3', '+14155550100'))?.failedAttempts, 1);
  t.equal((await store.recordFailure('v3', now, 2))?.status, 'locked');
  t.equal(await store.approve('v3', now), null, 'a locked session is not approved');
  await t.resolves(store.ping());

  const prisma = await prismaClient(kind, url);
  t.teardown(() => prisma.$disconnect());
  const rows = await prisma.verification.findMany({ orderBy: { id: 'asc' } });
  t.same(
    rows.map((row) => [row.id, row.status]),
    [
      ['v0', 'failed'],
      ['v1', 'canceled'],
      ['v2', 'failed'],
      ['v3', 'locked'],
      ['w1', 'pending'],
    ],
    'the Prisma client reads what the store wrote',
  );
  t.equal(rows[0]?.createdAt.toISOString(), now.toISOString(), 'and reads its times as written');

  await store.close();
  await t.resolves(store.close(), 'a second close is harmless');
  await t.rejects(store.findById('v1'), 'a closed store refuses statements');
}

t.test('sqlite', async (t) => checks(t, 'sqlite', await sqliteUrl(t)));

t.test('postgresql', async (t) => {
  if (!(await postgresAvailable(t))) return;
  await checks(t, 'postgresql', await postgresUrl(t));
});
