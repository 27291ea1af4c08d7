// The claim of an idempotency key on real SQLite and PostgreSQL databases, with a clock of the
// test's: a request still in flight after the wait is 409 with Retry-After; a claim abandoned past
// its lease (its process died) is taken over, and the late original can no longer store its
// answer over the new one; a key given back is claimed again.
import t from 'tap';
import { isAppError } from '../../src/errors.js';
import {
  type Admission,
  CLAIM_LEASE_MS,
  IdempotentStarts,
  isReplayable,
  KEY_LIFETIME_MS,
} from '../../src/idempotency/idempotent-starts.js';
import { idempotentRequest } from '../../src/idempotency/request-key.js';
import { AnswerSealer } from '../../src/idempotency/sealed-answer.js';
import { openDatabase } from '../../src/storage/database.js';
import { SqlIdempotencyStore } from '../../src/storage/idempotency-store.js';
import { migrate } from '../../src/storage/migrate.js';
import { DATABASES, databaseUrl } from '../helper.js';

const quiet = { info() {}, warn() {} };

interface PrismaKeys {
  idempotencyKey: {
    findMany(args: object): Promise<
      {
        keyHash: string;
        fingerprint: string;
        status: string;
        responseStatus: number | null;
        response: string | null;
        createdAt: Date;
        expiresAt: Date;
      }[]
    >;
  };
  $disconnect(): Promise<void>;
}

/** The generated client of the kind, over Prisma's own driver adapter and connection. */
async function prismaClient(kind: 'sqlite' | 'postgresql', url: string): Promise<PrismaKeys> {
  if (kind === 'sqlite') {
    const { PrismaClient } = await import('../../src/generated/sqlite/client.js');
    const { PrismaBetterSQLite3 } = await import('@prisma/adapter-better-sqlite3');
    return new PrismaClient({ adapter: new PrismaBetterSQLite3({ url }) }) as unknown as PrismaKeys;
  }
  const { PrismaClient } = await import('../../src/generated/postgresql/client.js');
  const { PrismaPg } = await import('@prisma/adapter-pg');
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as PrismaKeys;
}
const answer = (body: string) => ({ status: 201, contentType: 'application/json', body });

function claimOf(admission: Admission) {
  if (admission.kind !== 'run') throw new Error(`expected to run, got ${admission.kind}`);
  return admission.claim;
}

async function refusal(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    if (isAppError(error)) return error as Error & { code: string; headers?: Record<string, string> };
    throw error;
  }
  throw new Error('expected a refusal');
}

for (const kind of DATABASES) {
  t.test(kind, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    await migrate(kind, url, quiet);
    const database = await openDatabase(kind, url);
    t.teardown(() => database.close());
    let now = new Date('2026-06-01T12:00:00.000Z');
    const starts = new IdempotentStarts(
      new SqlIdempotencyStore(database),
      new AnswerSealer(Buffer.from('x'.repeat(32))),
      {
        waitMs: 0,
        clock: () => now,
      },
    );
    const body = { phone_number: '+14155550100' };

    t.test('a request in flight: the retry is 409 idempotency_key_in_use with Retry-After', async (t) => {
      const request = idempotentRequest('in-flight', 'open', body);
      const held = claimOf(await starts.admit(request));
      const busy = await refusal(starts.admit(request));
      t.equal(busy.code, 'idempotency_key_in_use');
      t.same(busy.headers, { 'retry-after': '1' });
      await held.finish(answer('first'), true);
      t.same(await starts.admit(request), { kind: 'replay', answer: answer('first') });
    });

    t.test('a claim abandoned past its lease is taken over; the late original stores nothing', async (t) => {
      const request = idempotentRequest('abandoned', 'open', body);
      const original = claimOf(await starts.admit(request));
      now = new Date(now.getTime() + CLAIM_LEASE_MS - 1);
      t.equal((await refusal(starts.admit(request))).code, 'idempotency_key_in_use', 'within the lease');
      t.equal(
        (await refusal(starts.admit(idempotentRequest('abandoned', 'open', { phone_number: '+1' })))).code,
        'idempotency_key_mismatch',
        'another body is refused whether or not the claim is live',
      );
      now = new Date(now.getTime() + 1);
      const successor = claimOf(await starts.admit(request));
      await original.finish(answer('late original'), true);
      t.equal(
        (await refusal(starts.admit(request))).code,
        'idempotency_key_in_use',
        'the successor still holds it',
      );
      await successor.finish(answer('successor'), true);
      t.same(await starts.admit(request), { kind: 'replay', answer: answer('successor') });
    });

    t.test('an answer not worth replaying gives the key back', async (t) => {
      const request = idempotentRequest('given-back', 'open', body);
      await claimOf(await starts.admit(request)).finish(answer('429'), false);
      const again = claimOf(await starts.admit(request));
      await again.finish(answer('second'), true);
      t.same(await starts.admit(request), { kind: 'replay', answer: answer('second') });
    });

    t.test('a key past its lifetime is claimed afresh, by any body', async (t) => {
      const request = idempotentRequest('lifetime', 'open', body);
      await claimOf(await starts.admit(request)).finish(answer('day one'), true);
      now = new Date(now.getTime() + KEY_LIFETIME_MS - 1);
      t.same(await starts.admit(request), { kind: 'replay', answer: answer('day one') });
      now = new Date(now.getTime() + 1);
      const other = idempotentRequest('lifetime', 'open', { phone_number: '+14155550101' });
      t.equal((await starts.admit(other)).kind, 'run');
    });

    t.test(
      'the generated Prisma client reads the rows: schema.prisma, migration and SQL agree',
      async (t) => {
        const prisma = await prismaClient(kind, url);
        t.teardown(() => prisma.$disconnect());
        const rows = await prisma.idempotencyKey.findMany({ orderBy: { createdAt: 'asc' } });
        t.ok(rows.length >= 4);
        for (const row of rows) {
          t.match(row, {
            keyHash: /^[0-9a-f]{64}$/,
            fingerprint: /^[0-9a-f]{64}$/,
            status: /^(pending|done)$/,
          });
          t.ok(row.expiresAt instanceof Date && row.createdAt instanceof Date);
          t.equal(row.expiresAt.getTime() - row.createdAt.getTime(), KEY_LIFETIME_MS);
        }
        t.ok(
          rows.some(
            (row) => row.status === 'done' && row.responseStatus === 201 && row.response?.startsWith('v1.'),
          ),
        );
      },
    );
  });
}

t.test('which answers are replayed', async (t) => {
  t.ok(isReplayable(201, false), 'a started session');
  t.ok(isReplayable(400, false), 'an invalid number');
  t.ok(isReplayable(403, false), 'a destination not allowed');
  t.ok(isReplayable(502, false), 'a failed send');
  t.notOk(isReplayable(429, true), 'a limit that ends');
  t.notOk(isReplayable(403, true), 'a block that ends');
  t.notOk(isReplayable(500, false), 'the service failed');
  t.notOk(isReplayable(503, false), 'the database was unreachable');
});
