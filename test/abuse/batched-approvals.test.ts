// Approvals reach a shared store in batches: many verifies of one interval are one store call,
// counts merged per prefix and bucket; closing the app sends what is queued before Redis closes;
// a failed batch is logged, never thrown into a verify.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t from 'tap';
import { BatchedApprovals } from '../../src/abuse/batched-approvals.js';
import type { Approval } from '../../src/abuse/guard-store.js';
import { MemoryGuardStore } from '../../src/abuse/memory-guard-store.js';
import { build, postJson, REDIS_TEST_URL, redisAvailable, startVerification } from '../helper.js';

/** The real memory store, remembering what each approve() call was given. */
class RecordingStore extends MemoryGuardStore {
  readonly calls: Approval[][] = [];
  override async approve(approvals: Approval[], keepMs: number): Promise<void> {
    this.calls.push(approvals.map((approval) => ({ ...approval })));
    await super.approve(approvals, keepMs);
  }
}

const quietLog = { error() {} };

t.test('approvals of one interval go to the store as one call, merged', async (t) => {
  const store = new RecordingStore();
  const batched = new BatchedApprovals(store, quietLog, 20);
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      batched.approve(
        [
          { prefix: '+4474', bucket: 7, count: 1 },
          { prefix: i % 2 === 0 ? '+447441' : '+447442', bucket: 7 + (i % 3 === 0 ? 1 : 0), count: 1 },
        ],
        60_000,
      ),
    ),
  );
  t.equal(store.calls.length, 0, 'nothing sent before the interval ends');
  // The interval's timer, however late a busy machine runs it.
  for (let i = 0; i < 250 && store.calls.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  t.equal(store.calls.length, 1, 'one call for the interval');
  const sent = new Map(store.calls[0]?.map((a) => [`${a.prefix} ${a.bucket}`, a.count]));
  t.equal(sent.get('+4474 7'), 30, 'a prefix and bucket approved 30 times is one entry of 30');
  const others = [...sent].filter(([key]) => !key.startsWith('+4474 ')).reduce((n, [, c]) => n + c, 0);
  t.equal(others, 30, 'every approval of the other prefixes counted once');
  await batched.flush();
  t.equal(store.calls.length, 1, 'an empty flush sends nothing');
});

t.test('a failed batch is logged with its size, and later batches still go out', async (t) => {
  const errors: object[] = [];
  let fail = true;
  const store = new (class extends RecordingStore {
    override async approve(approvals: Approval[], keepMs: number): Promise<void> {
      if (fail) throw new Error('store down');
      await super.approve(approvals, keepMs);
    }
  })();
  const batched = new BatchedApprovals(store, { error: (object) => errors.push(object) }, 10);
  await batched.approve([{ prefix: '+1415', bucket: 1, count: 1 }], 1_000);
  await batched.flush();
  t.match(errors, [{ err: { message: 'store down' }, approvals: 1 }]);
  fail = false;
  await batched.approve([{ prefix: '+1415', bucket: 1, count: 1 }], 1_000);
  await batched.flush();
  t.equal(store.calls.length, 1, 'the next batch reached the store');
});

t.test(
  'with Redis: a verify approval is in Redis after the interval, and close sends what is queued',
  async (t) => {
    if (!(await redisAvailable(t))) return;
    const prefix = `pv-test:${randomBytes(6).toString('hex')}:`;
    const redis = new Redis(REDIS_TEST_URL);
    t.teardown(async () => {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    });
    const approvalsOf = async (destination: string) => {
      const counts = await redis.hgetall(`${prefix}abuse:fg:${destination}`);
      return Object.entries(counts)
        .filter(([field]) => field.startsWith('a'))
        .reduce((n, [, value]) => n + Number(value), 0);
    };
    const target = await build(t, { env: { REDIS_URL: REDIS_TEST_URL, REDIS_KEY_PREFIX: prefix } });
    const verify = async (phoneNumber: string) => {
      const started = await startVerification(target, phoneNumber);
      const reply = await postJson(target.app, '/v1/verifications/verify', {
        phone_number: phoneNumber,
        security_code: started.code,
        session_token: started.session_token,
      });
      t.equal(reply.statusCode, 200, 'approved');
    };

    await verify('+447400123456');
    for (let i = 0; i < 250 && (await approvalsOf('+44')) < 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    t.equal(await approvalsOf('+44'), 1, 'the approval reached Redis within the batch interval');

    await verify('+447400123457');
    await target.app.close();
    t.equal(await approvalsOf('+44'), 2, 'closing the app sent the queued approval before Redis closed');
  },
);
