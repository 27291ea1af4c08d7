// The abuse-protection settings of config.ts: defaults, accepted values, one-line errors.
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

t.test('defaults', async (t) => {
  const config = loadConfig({});
  t.same(config.apiKeys, []);
  t.same(config.rateLimit, { max: 100, windowMs: 60_000 });
  t.same(config.phoneRateLimit, { max: 5, windowMs: 3_600_000 });
  t.equal(config.redisUrl, undefined);
  t.equal(config.redisKeyPrefix, 'phone-verify:');
  t.equal(config.rateLimitOnRedisError, 'local');
  t.equal(config.logPhoneNumbers, 'masked');
  t.equal(config.trustProxy, false);
});

t.test('accepted values', async (t) => {
  const config = loadConfig({
    API_KEYS: ' a-key , another-key ,',
    RATE_LIMIT_MAX: '3',
    RATE_LIMIT_WINDOW: '10 seconds',
    PHONE_RATE_LIMIT_MAX: '2',
    PHONE_RATE_LIMIT_WINDOW: '86400000',
    REDIS_URL: 'rediss://user:pw@redis.example:6380/2',
    REDIS_KEY_PREFIX: 'tenant-a:',
    RATE_LIMIT_ON_REDIS_ERROR: 'CLOSED',
    LOG_PHONE_NUMBERS: 'full',
    TRUST_PROXY: '10.0.0.0/8, 192.168.1.1',
  });
  t.same(config.apiKeys, ['a-key', 'another-key']);
  t.same(config.rateLimit, { max: 3, windowMs: 10_000 });
  t.same(config.phoneRateLimit, { max: 2, windowMs: 86_400_000 });
  t.equal(config.redisKeyPrefix, 'tenant-a:');
  t.equal(config.rateLimitOnRedisError, 'closed');
  t.equal(config.logPhoneNumbers, 'full');
  t.same(config.trustProxy, ['10.0.0.0/8', '192.168.1.1']);
  t.equal(loadConfig({ TRUST_PROXY: '1' }).trustProxy, 1);
});

t.test('bad values stop the start with a line naming the variable', async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [
      { RATE_LIMIT_ON_REDIS_ERROR: 'sometimes' },
      /^RATE_LIMIT_ON_REDIS_ERROR: expected one of local, open, closed/,
    ],
    [{ LOG_PHONE_NUMBERS: 'hidden' }, /^LOG_PHONE_NUMBERS: expected one of masked, full/],
    [{ RATE_LIMIT_MAX: '0' }, /^RATE_LIMIT_MAX: /],
    [{ PHONE_RATE_LIMIT_WINDOW: 'soon' }, /^PHONE_RATE_LIMIT_WINDOW: /],
    [{ REDIS_URL: 'http://redis:6379' }, /^REDIS_URL: /],
    [{ TRUST_PROXY: 'everyone' }, /^TRUST_PROXY: /],
  ];
  for (const [env, message] of cases) {
    t.throws(() => loadConfig(env), { name: 'ConfigError', message }, JSON.stringify(env));
  }
  t.throws(() => loadConfig({ REDIS_URL: 'http://user:hunter2@redis' }), ConfigError);
  try {
    loadConfig({ REDIS_URL: 'http://user:hunter2@redis' });
  } catch (error) {
    t.notOk((error as Error).message.includes('hunter2'), 'a Redis password is never echoed');
  }
});
