// GET /v1/verifications/{id}: an id no session can have (ids are UUIDs) is 404 not_found without
// a lookup: on PostgreSQL a NUL byte in it was a 500 (text refuses it), and with no database at
// all a well-formed id is 503 while one that cannot exist is still 404.
import t from 'tap';
import { build, postgresAvailable, postgresUrl, sqliteUrl } from '../helper.js';
import { proxyInFrontOf } from '../tcp-proxy.js';

const CANNOT_EXIST = [
  '%00',
  'x',
  'a%00b',
  '01A236CE-BEDC-7000-8253-4DA310E8133B',
  `${'0'.repeat(8)}-0000-0000-0000`,
];

t.test('sqlite: 404 not_found', async (t) => {
  const target = await build(t, { env: { DATABASE_URL: await sqliteUrl(t) } });
  for (const id of CANNOT_EXIST) {
    const reply = await target.app.inject(`/v1/verifications/${id}`);
    t.equal(reply.statusCode, 404, id);
    t.equal(reply.json().code, 'not_found');
  }
});

t.test('postgresql: 404 not_found, without the database', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { proxy, url: viaProxy } = await proxyInFrontOf(t, await postgresUrl(t));
  const target = await build(t, { env: { DATABASE_URL: viaProxy, DATABASE_TIMEOUT: '1000' } });
  const nul = await target.app.inject('/v1/verifications/%00');
  t.equal(nul.statusCode, 404, 'a NUL byte, which PostgreSQL refuses in text');
  await proxy.stop(); // no database at all: whatever needs it is 503
  for (const id of CANNOT_EXIST) {
    const reply = await target.app.inject(`/v1/verifications/${id}`);
    t.equal(reply.statusCode, 404, id);
    t.equal(reply.json().code, 'not_found');
  }
  const wellFormed = await target.app.inject('/v1/verifications/01a236ce-bedc-7000-8253-4da310e8133b');
  t.equal(wellFormed.statusCode, 503, 'a well-formed id is looked up');
});
