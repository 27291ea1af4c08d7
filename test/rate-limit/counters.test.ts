// The counters on their own: windows, refunds, and the memory counter's bound.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t from 'tap';
import { MemoryCounter } from '../../src/rate-limit/memory-counter.js';
import { RedisCounter } from '../../src/rate-limit/redis-counter.js';
import { REDIS_TEST_URL, redisAvailable } from '../helper.js';

t.test('MemoryCounter counts per window and refunds only an open window', async (t) => {
  let now = 1_000;
  const counter = new MemoryCounter(100, () => now);
  t.same(await counter.hit('a', 500), { current: 1, ttlMs: 500 });
  now += 200;
  t.same(await counter.hit('a', 500), { current: 2, ttlMs: 300 });
  t.same(await counter.hit('b', 500), { current: 1, ttlMs: 500 }, 'keys count apart');
  await counter.refund('a');
  t.same(await counter.hit('a', 500), { current: 2, ttlMs: 300 }, 'the refund took one back');
  now += 300;
  t.same(await counter.hit('a', 500), { current: 1, ttlMs: 500 }, 'a new window starts from one');
  now += 600;
  await counter.refund('a');
  t.same(await counter.hit('a', 500), { current: 1, ttlMs: 500 }, 'a closed window is not refunded');
});

t.test('MemoryCounter stays within its bound', async (t) => {
  const counter = new MemoryCounter(3, () => 0);
  for (const key of ['a', 'b', 'c', 'd']) await counter.hit(key, 1_000);
  t.same(await counter.hit('d', 1_000), { current: 2, ttlMs: 1_000 }, 'the newest key is kept');
  t.same(await counter.hit('a', 1_000), { current: 1, ttlMs: 1_000 }, 'the oldest key was dropped');
});

t.test('MemoryCounter drops closed windows before live ones, and makes room in batches', async (t) => {
  let now = 0;
  const counter = new MemoryCounter(10, () => now);
  for (let i = 0; i < 9; i++) await counter.hit(`live${i}`, 1_000);
  await counter.hit('short', 100);
  now = 200; // 'short' has closed; the other nine are open
  await counter.hit('new', 1_000);
  t.same(await counter.hit('live0', 1_000), { current: 2, ttlMs: 800 }, 'the oldest live key was kept');

  for (let i = 0; i < 20; i++) await counter.hit(`flood${i}`, 1_000);
  // Newest first, so that re-adding an evicted key cannot evict one not yet looked at.
  const kept = [];
  for (let i = 19; i >= 0; i--) if ((await counter.hit(`flood${i}`, 1_000)).current === 2) kept.push(i);
  t.same(kept, [19, 18, 17, 16, 15, 14, 13, 12, 11, 10], 'the newest keys are kept, within the bound');
});

t.test('RedisCounter counts atomically and never refunds into a closed window', async (t) => {
  if (!(await redisAvailable(t))) return;
  const redis = new Redis(REDIS_TEST_URL);
  const prefix = `pv-test:${randomBytes(6).toString('hex')}:`;
  t.teardown(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  const counter = new RedisCounter(redis, prefix);
  const hits = await Promise.all(Array.from({ length: 20 }, () => counter.hit('k', 60_000)));
  t.same(
    hits.map((hit) => hit.current).sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i + 1),
    'twenty concurrent hits get twenty distinct counts',
  );
  t.ok(
    hits.every((hit) => hit.ttlMs > 0 && hit.ttlMs <= 60_000),
    'each sees the open window',
  );
  await counter.refund('k');
  t.equal(await redis.get(`${prefix}k`), '19');

  await counter.refund('gone');
  t.equal(await redis.exists(`${prefix}gone`), 0, 'a refund never creates a counter');
  await redis.set(`${prefix}stuck`, '7');
  t.same(await counter.hit('stuck', 60_000), { current: 8, ttlMs: 60_000 }, 'a key without expiry gets one');
  t.ok((await redis.pttl(`${prefix}stuck`)) > 0);
});
