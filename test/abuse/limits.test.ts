// The SMS-bill protections other than the fraud guard's judgement, over HTTP: destination policy,
// resend interval, per-prefix limit, SMS budget, test numbers, their answers and metrics, shared
// by two replicas through Redis, and Redis going away.
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { build, postJson, REDIS_TEST_URL, redisAvailable, type TestApp } from '../helper.js';

function start(target: TestApp, phone: string) {
  return postJson(target.app, '/v1/verifications', { phone_number: phone });
}

async function refusals(target: TestApp): Promise<Record<string, number>> {
  const body = await target.app.metrics.registry.metrics();
  const counts: Record<string, number> = {};
  for (const [, reason, value] of body.matchAll(
    /^phone_verify_starts_refused_total\{reason="(\w+)"\} (\d+)$/gm,
  )) {
    counts[reason!] = Number(value);
  }
  return counts;
}

t.test(
  'destination policy: countries and number types answer 403 destination_not_allowed, sending nothing',
  async (t) => {
    const target = await build(t, { env: { ALLOWED_COUNTRIES: 'US,GB', DENIED_COUNTRIES: 'GB' } });
    const backend = target.app.backend as unknown as { sent: unknown[] };
    const german = await start(target, '+4915112345678');
    t.equal(german.statusCode, 403);
    t.equal(german.json().code, 'destination_not_allowed');
    t.match(german.headers['content-type'], /application\/problem\+json/);
    const british = await start(target, '+447400123456');
    t.equal(british.json().code, 'destination_not_allowed', 'denied even though allowed');
    const premium = await start(target, '+19005550123');
    t.equal(premium.statusCode, 403, 'a US premium-rate number');
    t.equal(premium.json().code, 'destination_not_allowed');
    t.equal((await start(target, '+14155550100')).statusCode, 201, 'a US number passes');
    t.equal(backend.sent.length, 1, 'only the allowed start sent a message');
    const counts = await refusals(target);
    t.equal(counts.country, 2);
    t.equal(counts.number_type, 1);
    const open = await build(t, { env: { DENIED_NUMBER_TYPES: 'none' } });
    t.equal((await start(open, '+19005550123')).statusCode, 201, 'DENIED_NUMBER_TYPES=none refuses no type');
  },
);

t.test('resend interval: a second start to one number within it is 429 with Retry-After', async (t) => {
  const target = await build(t, { env: { PHONE_RESEND_INTERVAL: '30 seconds' } });
  t.equal((await start(target, '+14155550100')).statusCode, 201);
  const again = await start(target, '+14155550100');
  t.equal(again.statusCode, 429);
  t.equal(again.json().code, 'rate_limited');
  t.ok(Number(again.headers['retry-after']) >= 29 && Number(again.headers['retry-after']) <= 30);
  t.equal((await start(target, '+14155550101')).statusCode, 201, 'another number is not affected');
  t.equal((await refusals(target)).resend_interval, 1);
});

t.test('per-prefix limit: starts per 10,000-number block; the safe list is exempt', async (t) => {
  const target = await build(t, {
    env: {
      PREFIX_RATE_LIMIT_MAX: '3',
      PREFIX_RATE_LIMIT_WINDOW: '1 hour',
      FRAUD_GUARD_SAFE_LIST: '+1415556',
    },
  });
  for (const n of ['0100', '0101', '0102']) t.equal((await start(target, `+1415555${n}`)).statusCode, 201);
  const fourth = await start(target, '+14155550103');
  t.equal(fourth.statusCode, 429);
  t.ok(Number(fourth.headers['retry-after']) > 3500);
  t.equal((await start(target, '+14155560100')).statusCode, 201, 'another block');
  for (const n of ['0101', '0102', '0103'])
    t.equal((await start(target, `+1415556${n}`)).statusCode, 201, 'safe-listed');
  t.equal((await refusals(target)).prefix_limit, 1);
  const refusedAgain = await start(target, '+14155550103');
  t.equal(refusedAgain.statusCode, 429, 'a refused start did not free a slot');
});

t.test('SMS budget: messages of the whole deployment per window', async (t) => {
  const target = await build(t, { env: { SMS_BUDGET_MAX: '2', SMS_BUDGET_WINDOW: '1 hour' } });
  t.equal((await start(target, '+14155550100')).statusCode, 201);
  t.equal((await start(target, '+447400123456')).statusCode, 201);
  const third = await start(target, '+4915112345678');
  t.equal(third.statusCode, 429);
  t.equal(third.json().code, 'rate_limited');
  t.ok(Number(third.headers['retry-after']) > 3500);
  t.equal((await refusals(target)).budget, 1);
});

t.test(
  'test numbers: a fixed code, nothing sent, no limit but per-IP; ordinary again after UNTIL',
  async (t) => {
    const target = await build(t, {
      env: {
        TEST_PHONE_NUMBERS: '+15555550100=123456',
        PHONE_RATE_LIMIT_MAX: '1',
        SMS_BUDGET_MAX: '1',
        ALLOWED_COUNTRIES: 'GB',
      },
    });
    const backend = target.app.backend as unknown as { sent: unknown[] };
    for (let i = 0; i < 3; i += 1) {
      const reply = await start(target, '+15555550100');
      t.equal(reply.statusCode, 201, `start ${i + 1}: no limit, no country policy`);
      const { session_token } = reply.json();
      const verify = await postJson(target.app, '/v1/verifications/verify', {
        phone_number: '+15555550100',
        session_token,
        security_code: '123456',
      });
      t.equal(verify.statusCode, 200, 'the fixed code approves');
    }
    t.equal(backend.sent.length, 0, 'nothing sent');
    const expired = await build(t, {
      // A valid number, so that once it is ordinary again its start is sent like any other.
      env: { TEST_PHONE_NUMBERS: '+14155550100=123456', TEST_PHONE_NUMBERS_UNTIL: '2020-01-01T00:00:00Z' },
    });
    t.equal((await start(expired, '+14155550100')).statusCode, 201);
    t.equal(
      (expired.app.backend as unknown as { sent: unknown[] }).sent.length,
      1,
      'after UNTIL a message is sent',
    );
  },
);

t.test('two replicas sharing Redis enforce one prefix limit and one budget', async (t) => {
  if (!(await redisAvailable(t))) return;
  const env = {
    REDIS_URL: REDIS_TEST_URL,
    REDIS_KEY_PREFIX: `pv-test-${randomUUID()}:`,
    PREFIX_RATE_LIMIT_MAX: '4',
    SMS_BUDGET_MAX: '6',
  };
  const a = await build(t, { env });
  const b = await build(t, { env });
  const answers = await Promise.all(
    ['0100', '0101', '0102', '0103', '0104', '0105'].map((n, i) => start(i % 2 ? a : b, `+1415555${n}`)),
  );
  t.same(answers.map((r) => r.statusCode).sort(), [201, 201, 201, 201, 429, 429], 'four of six across both');
  const more = await Promise.all(
    ['+447400123456', '+447400123457', '+447400123458'].map((n, i) => start(i % 2 ? a : b, n)),
  );
  t.same(more.map((r) => r.statusCode).sort(), [201, 201, 429], 'the budget of 6 is shared');
});

t.test(
  'Redis going away mid-run: RATE_LIMIT_ON_REDIS_ERROR=closed answers 503, local keeps limiting',
  async (t) => {
    if (!(await redisAvailable(t))) return;
    // A Redis that is not there: the port of a server that was closed.
    const { createServer } = await import('node:net');
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const gone = `redis://127.0.0.1:${port}`;
    const closed = await build(t, {
      env: { REDIS_URL: gone, RATE_LIMIT_ON_REDIS_ERROR: 'closed', PHONE_RATE_LIMIT_MAX: '100000' },
    });
    const refused = await start(closed, '+14155550100');
    t.equal(refused.statusCode, 503);
    t.equal(refused.json().code, 'service_unavailable');
    const local = await build(t, {
      env: { REDIS_URL: gone, RATE_LIMIT_ON_REDIS_ERROR: 'local', PREFIX_RATE_LIMIT_MAX: '1' },
    });
    t.equal((await start(local, '+14155550100')).statusCode, 201);
    t.equal((await start(local, '+14155550101')).statusCode, 429, 'counted in memory meanwhile');
  },
);

t.test('the blocks API: empty list, unknown prefix 404, API key required', async (t) => {
  const target = await build(t, { env: { API_KEYS: 'k1' } });
  const auth = { authorization: 'Bearer k1' };
  t.equal((await target.app.inject({ url: '/v1/fraud-guard/blocks' })).statusCode, 401);
  const list = await target.app.inject({ url: '/v1/fraud-guard/blocks', headers: auth });
  t.same(list.json(), { blocks: [] });
  const unknown = await target.app.inject({
    method: 'DELETE',
    url: '/v1/fraud-guard/blocks/%2B4477009',
    headers: auth,
  });
  t.equal(unknown.statusCode, 404);
  t.equal(unknown.json().code, 'not_found');
  const metrics = await target.app.inject({ url: '/metrics' });
  t.match(metrics.body, /^phone_verify_fraud_guard_blocked_prefixes 0$/m);
  t.match(metrics.body, /^phone_verify_fraud_guard_would_block_total 0$/m);
});

t.test('country labels on started and approved', async (t) => {
  const target = await build(t);
  const reply = await start(target, '+447400123456');
  await postJson(target.app, '/v1/verifications/verify', {
    phone_number: '+447400123456',
    session_token: reply.json().session_token,
    security_code: target.lastCode('+447400123456'),
  });
  const body = (await target.app.inject({ url: '/metrics' })).body;
  t.match(body, /^phone_verify_verifications_started_total\{backend="test-recorder",country="GB"\} 1$/m);
  t.match(body, /^phone_verify_verifications_approved_total\{backend="test-recorder",country="GB"\} 1$/m);
});
