// Two replicas sharing the real Redis enforce one per-number limit and one per-IP limit between
// them, over real HTTP.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { build, REDIS_TEST_URL, redisAvailable, type TestApp } from '../helper.js';

/** A key prefix of its own, so parallel test files never share counters; removed afterwards. */
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

async function listen(target: TestApp): Promise<string> {
  return target.app.listen({ port: 0, host: '127.0.0.1' });
}

function start(base: string, phoneNumber: string, headers: Record<string, string> = {}) {
  return fetch(`${base}/v1/verifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ phone_number: phoneNumber }),
  });
}

t.test('two replicas enforce one per-number limit', async (t) => {
  if (!(await redisAvailable(t))) return;
  const prefix = redisPrefix(t);
  const env = { REDIS_URL: REDIS_TEST_URL, REDIS_KEY_PREFIX: prefix, PHONE_RATE_LIMIT_MAX: '2' };
  const a = await listen(await build(t, { env }));
  const b = await listen(await build(t, { env }));

  t.equal((await start(a, '+14155550100')).status, 201, 'first start, on A');
  t.equal((await start(b, '+1 415-555-0100')).status, 201, 'second start, on B');
  const onA = await start(a, '+14155550100');
  t.equal(onA.status, 429, 'A knows of the start on B');
  t.match(await onA.json(), { code: 'rate_limited' });
  t.ok(Number(onA.headers.get('retry-after')) > 0, 'Retry-After');
  const onB = await start(b, '+1.415.555.0100');
  t.equal(onB.status, 429, 'B as well');
  t.ok(onB.headers.get('retry-after'));
  t.equal((await start(b, '+14155550199')).status, 201, 'another number is free');

  const redis = new Redis(REDIS_TEST_URL);
  t.teardown(() => redis.quit());
  const keys = await redis.keys(`${prefix}*`);
  t.ok(keys.length > 0, 'the counters live in Redis under REDIS_KEY_PREFIX');
  t.notOk(
    keys.some((key) => key.includes('4155550')),
    'no phone number in a Redis key',
  );
});

t.test('two replicas enforce one per-IP limit', async (t) => {
  if (!(await redisAvailable(t))) return;
  const env = { REDIS_URL: REDIS_TEST_URL, REDIS_KEY_PREFIX: redisPrefix(t), RATE_LIMIT_MAX: '3' };
  const a = await listen(await build(t, { env }));
  const b = await listen(await build(t, { env }));
  const read = (base: string) => fetch(`${base}/v1/verifications/00000000-0000-4000-8000-000000000000`);

  const first = await read(a);
  t.equal(first.status, 404);
  t.equal(first.headers.get('x-ratelimit-remaining'), '2');
  const second = await read(b);
  t.equal(second.headers.get('x-ratelimit-remaining'), '1', 'B counts on from A');
  t.equal((await read(a)).status, 404);
  const limited = await read(b);
  t.equal(limited.status, 429);
  t.match(await limited.json(), { code: 'rate_limited' });
  t.ok(Number(limited.headers.get('retry-after')) > 0);
  t.equal((await read(a)).status, 429);
  t.equal((await fetch(`${a}/healthz`)).status, 200, 'operations routes stay open');
});

t.test('API keys over HTTP on two replicas', async (t) => {
  if (!(await redisAvailable(t))) return;
  const env = { REDIS_URL: REDIS_TEST_URL, REDIS_KEY_PREFIX: redisPrefix(t), API_KEYS: 'k-0123456789abcdef' };
  const a = await listen(await build(t, { env }));
  const b = await listen(await build(t, { env }));
  for (const base of [a, b]) {
    const refused = await start(base, '+14155550100', { authorization: 'Bearer wrong' });
    t.equal(refused.status, 401);
    t.match(refused.headers.get('www-authenticate'), /^Bearer/);
    t.equal((await start(base, '+14155550100')).status, 401);
    t.equal((await start(base, '+14155550100', { authorization: 'Bearer k-0123456789abcdef' })).status, 201);
    t.equal((await fetch(`${base}/readyz`)).status, 200);
  }
});

t.test('closing the app closes its Redis connection', async (t) => {
  if (!(await redisAvailable(t))) return;
  const target = await build(t, { env: { REDIS_URL: REDIS_TEST_URL, REDIS_KEY_PREFIX: redisPrefix(t) } });
  const redis = target.app.redis;
  t.equal(redis?.status, 'ready');
  await target.app.close();
  t.equal(redis?.status, 'end');
});
