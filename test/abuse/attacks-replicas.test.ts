// Two replicas on one PostgreSQL database sharing one Redis: an attack spread over both is blocked
// on both, and real users who start on one replica and type their code on the other are never
// refused (their approvals reach the guard whichever replica approved).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { build, postgresAvailable, postgresUrl, REDIS_TEST_URL, redisAvailable } from '../helper.js';
import { attack, listBlocks, numbers, realUsers, SCALED_GUARD, startOn } from './attack-traffic.js';

/** A Redis key prefix of its own, removed afterwards. */
function redisPrefix(t: Test): string {
  const prefix = `pv-test:${randomBytes(6).toString('hex')}:`;
  t.teardown(async () => {
    const redis = new Redis(REDIS_TEST_URL);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return prefix;
}

async function replicas(t: Test) {
  if (!(await postgresAvailable(t)) || !(await redisAvailable(t))) return undefined;
  const env = {
    ...SCALED_GUARD,
    DATABASE_URL: await postgresUrl(t),
    REDIS_URL: REDIS_TEST_URL,
    REDIS_KEY_PREFIX: redisPrefix(t),
  };
  const a = await build(t, { env });
  const b = await build(t, { env: { ...env, MIGRATE_ON_START: 'false' } });
  return [a, b];
}

t.test('an attack over two replicas is blocked on both', async (t) => {
  const apps = await replicas(t);
  if (!apps) return;
  const [a, b] = apps as [NonNullable<typeof apps>[0], NonNullable<typeof apps>[1]];
  const { source, random } = numbers(11);
  const attacked: string[] = [];
  const [run, users] = await Promise.all([
    attack({
      targets: [a, b],
      next: () => {
        const number = source.concentrated();
        attacked.push(number);
        return number;
      },
      batch: 8,
      everyMs: 20,
      maxStarts: 1_500,
      afterBlocked: 100,
    }),
    realUsers({ starts: [a, b], verifies: [b, a], source, random, count: 60, everyMs: 20 }),
  ]);
  t.ok(run.engagedAt !== undefined, 'the guard engaged');
  for (const [name, app] of [
    ['A', a],
    ['B', b],
  ] as const) {
    const fresh = await Promise.all(Array.from({ length: 10 }, () => startOn(app, source.concentrated())));
    t.same(
      fresh.map((o) => `${o.status} ${o.code}`),
      Array(10).fill('403 destination_blocked'),
      `${name} refuses the attacked range`,
    );
    const blocks = await listBlocks(app);
    t.ok(
      blocks.some((block) => attacked.some((n) => n.startsWith(block.prefix))),
      `${name} lists the block`,
    );
  }
  t.same(
    users.filter((u) => u.status !== 201 || (u.converts && u.verifyStatus !== 200)).map((u) => u.number),
    [],
    'no real user refused',
  );
});

t.test('approvals on one replica reach the guard of the other', async (t) => {
  const apps = await replicas(t);
  if (!apps) return;
  const [a, b] = apps as [NonNullable<typeof apps>[0], NonNullable<typeof apps>[1]];
  const { source, random } = numbers(12);
  // A dense block: judged on its own, and blocked if A never learnt of the approvals made on B.
  const dense = Array.from({ length: 45 }, (_, i) => `+1415555${String(1000 + i * 7).padStart(4, '0')}`);
  const first = await realUsers({
    starts: [a],
    verifies: [b],
    source,
    random,
    count: 30,
    everyMs: 10,
    conversion: 0.6,
    numbers: dense,
  });
  await new Promise((resolve) => setTimeout(resolve, 400));
  const later = await realUsers({
    starts: [a],
    verifies: [b],
    source,
    random,
    count: 15,
    everyMs: 10,
    conversion: 0.6,
    numbers: dense.slice(30),
  });
  t.same(
    [...first, ...later].filter((u) => u.status !== 201).map((u) => `${u.number} ${u.status} ${u.code}`),
    [],
    'no real user refused',
  );
  t.same(await listBlocks(a), [], 'nothing blocked on A');
});
