// The per-client-IP limit: /v1 and unknown routes share one budget, operations routes have none,
// and TRUST_PROXY decides whether X-Forwarded-For names the client.
import t from 'tap';
import { build } from '../../helper.js';

const UNKNOWN_ID = '/v1/verifications/00000000-0000-4000-8000-000000000000';

t.test('the per-IP limit answers 429 rate_limited with Retry-After and the rate-limit headers', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW: '1 minute' } });
  for (let i = 1; i <= 3; i++) {
    const reply = await app.inject({ method: 'GET', url: UNKNOWN_ID });
    t.equal(reply.statusCode, 404, `request ${i} is under the limit`);
    t.equal(reply.headers['x-ratelimit-limit'], '3');
    t.equal(reply.headers['x-ratelimit-remaining'], String(3 - i));
  }
  const limited = await app.inject({ method: 'GET', url: UNKNOWN_ID });
  t.equal(limited.statusCode, 429);
  t.match(limited.headers['content-type'], /^application\/problem\+json/);
  t.match(limited.json(), {
    status: 429,
    code: 'rate_limited',
    type: 'urn:phone-verify:problem:rate_limited',
  });
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After in seconds');
  t.ok(Number(limited.headers['retry-after']) <= 60, 'Retry-After within the window');
  t.equal(limited.headers['x-ratelimit-limit'], '3');
  t.equal(limited.headers['x-ratelimit-remaining'], '0');
  t.ok(Number(limited.headers['x-ratelimit-reset']) > 0);

  const start = await app.inject({
    method: 'POST',
    url: '/v1/verifications',
    payload: { phone_number: '+14155550100' },
  });
  t.equal(start.statusCode, 429, 'every /v1 route shares the budget');
});

t.test('operations routes are not limited and do not spend the budget', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2' } });
  for (let i = 0; i < 5; i++) {
    const reply = await app.inject({ method: 'GET', url: '/healthz' });
    t.equal(reply.statusCode, 200);
    t.notOk(reply.headers['x-ratelimit-limit'], 'no rate-limit headers on /healthz');
  }
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
  const api = await app.inject({ method: 'GET', url: UNKNOWN_ID });
  t.equal(api.headers['x-ratelimit-remaining'], '1', 'the first /v1 request still has the whole budget');
});

t.test('unknown routes are limited and share the budget with /v1', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2' } });
  const first = await app.inject({ method: 'GET', url: '/wp-login.php' });
  t.equal(first.statusCode, 404);
  t.equal(first.json().code, 'not_found');
  t.equal(first.headers['x-ratelimit-remaining'], '1');
  const second = await app.inject({ method: 'GET', url: UNKNOWN_ID });
  t.equal(second.statusCode, 404);
  const scan = await app.inject({ method: 'GET', url: '/.env' });
  t.equal(scan.statusCode, 429);
  t.equal(scan.json().code, 'rate_limited');
  t.ok(scan.headers['retry-after']);
});

t.test('without TRUST_PROXY, X-Forwarded-For cannot buy a new budget', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2' } });
  const codes: number[] = [];
  for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
    const reply = await app.inject({ method: 'GET', url: UNKNOWN_ID, headers: { 'x-forwarded-for': ip } });
    codes.push(reply.statusCode);
  }
  t.same(codes, [404, 404, 429]);
});

t.test('with TRUST_PROXY, each client behind the proxy has its own budget', async (t) => {
  const { app } = await build(t, { env: { RATE_LIMIT_MAX: '2', TRUST_PROXY: '127.0.0.1' } });
  const get = (ip: string) =>
    app.inject({ method: 'GET', url: UNKNOWN_ID, headers: { 'x-forwarded-for': ip } });
  t.equal((await get('203.0.113.1')).statusCode, 404);
  t.equal((await get('203.0.113.1')).statusCode, 404);
  t.equal((await get('203.0.113.1')).statusCode, 429, 'the first client is limited');
  t.equal((await get('203.0.113.2')).statusCode, 404, 'another client is not');
  t.equal((await get('198.51.100.7, 203.0.113.2')).statusCode, 404, 'the right-most untrusted hop counts');
  t.equal((await get('203.0.113.2')).statusCode, 429, 'a forged left-most address does not help');
});
