// Redis going away mid-run and coming back, through a TCP proxy the test controls (the real Redis
// keeps running): each RATE_LIMIT_ON_REDIS_ERROR policy behaves as documented, nothing crashes,
// and the shared counters take over again on recovery.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import t, { type Test } from 'tap';
import { build, postJson, REDIS_TEST_URL, redisAvailable, type TestApp } from '../helper.js';
import { eventually, TcpProxy } from '../tcp-proxy.js';

const NUMBER = '+14155550100';

async function proxyToRedis(t: Test): Promise<TcpProxy> {
  const target = new URL(REDIS_TEST_URL);
  const proxy = new TcpProxy(target.hostname, Number(target.port || 6379));
  await proxy.start();
  t.teardown(() => proxy.stop());
  return proxy;
}

function prefix(t: Test): string {
  const value = `pv-test:${randomBytes(6).toString('hex')}:`;
  t.teardown(async () => {
    const redis = new Redis(REDIS_TEST_URL);
    const keys = await redis.keys(`${value}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  return value;
}

const start = (target: TestApp, phoneNumber = NUMBER) =>
  postJson(target.app, '/v1/verifications', { phone_number: phoneNumber });

function logged(target: TestApp, text: string) {
  return target.logs.entries.filter((entry) => String(entry.msg).includes(text));
}

async function takeRedisAway(target: TestApp, proxy: TcpProxy): Promise<void> {
  await proxy.stop();
  await eventually(() => target.app.redis?.status !== 'ready', 'the client to notice');
}

async function bringRedisBack(target: TestApp, proxy: TcpProxy): Promise<void> {
  await proxy.start();
  await eventually(() => target.app.redis?.status === 'ready', 'the client to reconnect');
}

t.test('RATE_LIMIT_ON_REDIS_ERROR=local (default): limits hold per replica, then shared again', async (t) => {
  if (!(await redisAvailable(t))) return;
  const proxy = await proxyToRedis(t);
  const target = await build(t, {
    env: { REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix(t), PHONE_RATE_LIMIT_MAX: '2' },
  });
  t.equal((await start(target)).statusCode, 201, 'counted in Redis: 1 of 2');

  await takeRedisAway(target, proxy);
  t.equal((await start(target)).statusCode, 201, 'counted in memory: 1 of 2');
  t.equal((await start(target)).statusCode, 201, 'counted in memory: 2 of 2');
  const limited = await start(target);
  t.equal(limited.statusCode, 429, 'the limit still holds in this replica');
  t.ok(limited.headers['retry-after']);
  const read = await target.app.inject({
    method: 'GET',
    url: '/v1/verifications/00000000-0000-4000-8000-000000000000',
  });
  t.equal(read.statusCode, 404, 'the per-IP limit counts in memory too');
  t.ok(read.headers['x-ratelimit-remaining']);
  t.equal((await target.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still alive');
  const outage = logged(target, 'rate-limit store (Redis) unreachable');
  t.equal(outage.length, 1, 'one error line for the outage, not one per request');
  t.equal(outage[0]?.level, 50, 'at error level');
  t.equal(outage[0]?.policy, 'local');

  await bringRedisBack(target, proxy);
  t.equal((await start(target)).statusCode, 201, 'back in Redis: 2 of 2');
  t.equal((await start(target)).statusCode, 429, 'the shared count resumed where it was');
  t.equal(logged(target, 'reachable again').length, 1, 'recovery logged');
});

t.test('RATE_LIMIT_ON_REDIS_ERROR=closed: limited routes answer 503 until Redis is back', async (t) => {
  if (!(await redisAvailable(t))) return;
  const proxy = await proxyToRedis(t);
  const target = await build(t, {
    env: { REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix(t), RATE_LIMIT_ON_REDIS_ERROR: 'closed' },
  });
  t.equal((await start(target)).statusCode, 201);

  await takeRedisAway(target, proxy);
  const refused = await start(target);
  t.equal(refused.statusCode, 503);
  t.match(refused.headers['content-type'], /^application\/problem\+json/);
  t.match(refused.json(), { code: 'service_unavailable', detail: /Rate limits cannot be checked/ });
  t.equal((await target.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'still alive');
  t.equal(
    (await target.app.inject({ method: 'GET', url: '/readyz' })).statusCode,
    200,
    'the database is fine',
  );

  await bringRedisBack(target, proxy);
  t.equal((await start(target)).statusCode, 201, 'served again');
});

t.test('RATE_LIMIT_ON_REDIS_ERROR=open: no limits while Redis is away', async (t) => {
  if (!(await redisAvailable(t))) return;
  const proxy = await proxyToRedis(t);
  const target = await build(t, {
    env: {
      REDIS_URL: proxy.url,
      REDIS_KEY_PREFIX: prefix(t),
      RATE_LIMIT_ON_REDIS_ERROR: 'open',
      PHONE_RATE_LIMIT_MAX: '1',
    },
  });
  t.equal((await start(target)).statusCode, 201);
  t.equal((await start(target)).statusCode, 429);

  await takeRedisAway(target, proxy);
  for (let i = 0; i < 3; i++) t.equal((await start(target)).statusCode, 201, 'not limited');
  t.equal(logged(target, 'rate-limit store (Redis) unreachable').length, 1);

  await bringRedisBack(target, proxy);
  t.equal((await start(target)).statusCode, 429, 'limited again by the shared count');
});

t.test('Redis unreachable at start: the service starts, limits per replica, and closes', async (t) => {
  if (!(await redisAvailable(t))) return;
  const proxy = await proxyToRedis(t);
  await proxy.stop(); // a port where nothing listens
  const target = await build(t, {
    env: { REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix(t), PHONE_RATE_LIMIT_MAX: '1' },
  });
  t.equal(logged(target, 'Redis unreachable at start').length, 1);
  t.equal((await start(target)).statusCode, 201);
  t.equal((await start(target)).statusCode, 429, 'counted in memory');

  await bringRedisBack(target, proxy);
  t.equal((await start(target)).statusCode, 201, 'the shared count starts from zero');
  t.equal((await start(target)).statusCode, 429);
});

t.test('a Redis that hangs does not hang requests', async (t) => {
  if (!(await redisAvailable(t))) return;
  const proxy = await proxyToRedis(t);
  const target = await build(t, {
    env: { REDIS_URL: proxy.url, REDIS_KEY_PREFIX: prefix(t), PHONE_RATE_LIMIT_MAX: '1' },
  });
  t.equal((await start(target)).statusCode, 201);

  proxy.freeze();
  const during = await start(target, '+14155550199');
  t.equal(during.statusCode, 201, 'answered after the command timeout, counted in memory');
  const outage = logged(target, 'rate-limit store (Redis) unreachable');
  t.equal(outage.length, 1);
  t.match(outage[0], { err: { message: /timed out/i } });
  t.equal((await start(target, '+14155550199')).statusCode, 429, 'the local count holds');

  proxy.thaw();
  const after = await start(target);
  t.equal(after.statusCode, 429, 'the shared count (1 of 1, kept in Redis) is used again');
  t.equal(logged(target, 'reachable again').length, 1, 'recovery logged');
});
