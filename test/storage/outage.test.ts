// A database outage answers 503 service_unavailable (and /readyz 503), and the service recovers by
// itself once the database is back. The outage is a TCP proxy in front of the real PostgreSQL
// that the test cuts and restores, so the real server stays up for the other tests.
import t from 'tap';
import { build, postgresAvailable, postgresUrl, postJson } from '../helper.js';
import { proxyInFrontOf } from '../tcp-proxy.js';

t.test('postgresql outage → 503, then recovery without a restart', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { proxy, url: viaProxy } = await proxyInFrontOf(t, await postgresUrl(t));
  const target = await build(t, { env: { DATABASE_URL: viaProxy } });

  t.equal(
    (await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' })).statusCode,
    201,
  );

  await proxy.stop();
  const down = await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' });
  t.equal(down.statusCode, 503);
  t.equal(down.json().code, 'service_unavailable');
  t.match(down.headers['content-type'], /application\/problem\+json/);
  const ready = await target.app.inject('/readyz');
  t.equal(ready.statusCode, 503);
  t.equal(ready.json().code, 'service_unavailable');
  t.equal((await target.app.inject('/healthz')).statusCode, 200, 'the process itself is alive');
  const verifyDown = await postJson(target.app, '/v1/verifications/verify', {
    phone_number: '+14155550100',
    security_code: '123456',
    session_token: 'x'.repeat(43),
  });
  t.equal(verifyDown.json().code, 'service_unavailable');

  await proxy.start();
  // Retried until the database is back, within a generous deadline (the pool's reconnect is not
  // what is timed here): twenty tries a quarter second apart were five seconds on a busy machine.
  let status = 0;
  const deadline = Date.now() + 30_000;
  while (status !== 201 && Date.now() < deadline) {
    status = (await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' })).statusCode;
    if (status !== 201) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  t.equal(status, 201, 'recovered');
  t.equal((await target.app.inject('/readyz')).statusCode, 200);
  t.notMatch(target.logs.text, /"level":60/, 'nothing fatal logged');
});
