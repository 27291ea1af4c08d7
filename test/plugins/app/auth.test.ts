// API keys on /v1: a right key passes, a missing, malformed or wrong one is a 401 with a Bearer
// challenge; operations routes stay open; unset keys leave the API open with one warning.
import t from 'tap';
import { bearerToken } from '../../../src/plugins/app/auth.js';
import { build, postJson } from '../../helper.js';

const KEYS = 'first-key-0123456789abcdef,second-key-fedcba9876543210';

t.test('bearerToken reads only the Bearer scheme', async (t) => {
  t.equal(bearerToken('Bearer abc.DEF-123_~+/='), 'abc.DEF-123_~+/=');
  t.equal(bearerToken('Bearer k!y#%'), 'k!y#%', 'any key without spaces');
  t.equal(bearerToken('bearer abc'), 'abc', 'the scheme is case-insensitive');
  t.equal(bearerToken('Basic dXNlcjpwYXNz'), undefined);
  t.equal(bearerToken('Bearer'), undefined);
  t.equal(bearerToken('Bearer '), undefined);
  t.equal(bearerToken('Bearer a b'), undefined);
  t.equal(bearerToken('abc'), undefined);
  t.equal(bearerToken(undefined), undefined);
});

t.test('with API_KEYS set', async (t) => {
  const target = await build(t, { env: { API_KEYS: KEYS } });
  const { app } = target;
  const start = (headers: Record<string, string>) =>
    postJson(app, '/v1/verifications', { phone_number: '+14155550100' }, headers);

  const refusals: [string, Record<string, string>, string][] = [
    ['no header', {}, 'Bearer realm="phone-verify"'],
    ['a wrong key', { authorization: 'Bearer not-a-key' }, 'error="invalid_token"'],
    ['a prefix of a key', { authorization: 'Bearer first-key' }, 'error="invalid_token"'],
    [
      'two keys joined',
      { authorization: 'Bearer first-key-0123456789abcdef,second' },
      'error="invalid_token"',
    ],
    ['another scheme', { authorization: 'Basic Zmlyc3Qta2V5' }, 'error="invalid_request"'],
    ['no credential', { authorization: 'Bearer ' }, 'error="invalid_request"'],
    ['the bare key', { authorization: 'first-key-0123456789abcdef' }, 'error="invalid_request"'],
    ['the key as X-Api-Key', { 'x-api-key': 'first-key-0123456789abcdef' }, 'Bearer realm="phone-verify"'],
  ];
  for (const [what, headers, challenge] of refusals) {
    const reply = await start(headers);
    t.equal(reply.statusCode, 401, `${what} → 401`);
    t.match(reply.headers['content-type'], /^application\/problem\+json/);
    t.match(reply.json(), { status: 401, code: 'unauthorized' }, what);
    t.match(String(reply.headers['www-authenticate']), /^Bearer realm="phone-verify"/, `${what}: challenge`);
    t.ok(String(reply.headers['www-authenticate']).includes(challenge), `${what}: ${challenge}`);
  }

  const get = await app.inject({
    method: 'GET',
    url: '/v1/verifications/00000000-0000-4000-8000-000000000000',
  });
  t.equal(get.statusCode, 401, 'GET needs a key too');
  const verify = await postJson(app, '/v1/verifications/verify', {});
  t.equal(verify.statusCode, 401, 'the key is checked before the body');

  const first = await start({ authorization: 'Bearer first-key-0123456789abcdef' });
  t.equal(first.statusCode, 201, 'the first key passes');
  const second = await start({ authorization: 'bearer second-key-fedcba9876543210' });
  t.equal(second.statusCode, 201, 'the second key passes');
  const read = await app.inject({
    method: 'GET',
    url: `/v1/verifications/${first.json().id}`,
    headers: { authorization: 'Bearer second-key-fedcba9876543210' },
  });
  t.equal(read.statusCode, 200);

  for (const url of ['/healthz', '/readyz']) {
    t.equal((await app.inject({ method: 'GET', url })).statusCode, 200, `${url} needs no key`);
  }

  t.notOk(target.logs.text.includes('first-key'), 'no key in the log');
  t.notOk(target.logs.text.includes('second-key'), 'no key in the log');
  t.notOk(target.logs.text.includes('API_KEYS is unset'), 'no open-API warning');
  t.notOk(target.logs.text.includes('shorter than'), 'no weak-key warning');
});

t.test('short keys are reported at start, without the key', async (t) => {
  const target = await build(t, { env: { API_KEYS: 'short1,long-enough-key-0123456789' } });
  const warning = target.logs.entries.find((entry) => String(entry.msg).includes('shorter than 16'));
  t.equal(warning?.keys, 1);
  t.notOk(target.logs.text.includes('short1'));
});

t.test('wrong keys spend the per-IP budget', async (t) => {
  const { app } = await build(t, { env: { API_KEYS: KEYS, RATE_LIMIT_MAX: '2' } });
  const guess = () =>
    postJson(app, '/v1/verifications', { phone_number: '+14155550100' }, { authorization: 'Bearer guess' });
  t.equal((await guess()).statusCode, 401);
  t.equal((await guess()).statusCode, 401);
  const limited = await guess();
  t.equal(limited.statusCode, 429);
  t.equal(limited.json().code, 'rate_limited');
});

t.test('without API_KEYS the API is open and the start says so once', async (t) => {
  const target = await build(t);
  const warnings = target.logs.entries.filter((entry) => String(entry.msg).includes('API_KEYS is unset'));
  t.equal(warnings.length, 1);
  t.equal(warnings[0]?.level, 40, 'at warn level');
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' });
  t.equal(reply.statusCode, 201);
});
