// Deadlines on PostgreSQL, through the real app and a real server: a server that accepts TCP but
// never answers, one that goes silent on its open connections, and a row lock held by another
// session. Each answers 503 service_unavailable within DATABASE_TIMEOUT (plus a second of grace),
// /healthz stays up, unrelated requests keep moving, and the service recovers by itself. The
// faults come from a TCP proxy (test/tcp-proxy.ts) and a second session of the test's own.
import pg from 'pg';
import t, { type Test } from 'tap';
import {
  build,
  postgresAvailable,
  postgresUrl,
  postJson,
  startVerification,
  type TestApp,
} from '../../helper.js';
import { proxyInFrontOf, type TcpProxy } from '../../tcp-proxy.js';

/** Short, so that the faults are found in a second or two. */
const DATABASE_TIMEOUT_MS = 1_000;

/** The app on a fresh database, reached through a proxy the test controls. */
async function behindProxy(t: Test): Promise<{ target: TestApp; proxy: TcpProxy; url: string }> {
  const url = await postgresUrl(t);
  const { proxy, url: viaProxy } = await proxyInFrontOf(t, url);
  const target = await build(t, {
    env: { DATABASE_URL: viaProxy, DATABASE_TIMEOUT: String(DATABASE_TIMEOUT_MS) },
  });
  return { target, proxy, url };
}

const start = (target: TestApp, phoneNumber = '+14155550100') =>
  postJson(target.app, '/v1/verifications', { phone_number: phoneNumber });

/** Retries a start until it is 201 (the database is back), giving up after a generous bound. */
async function startsAgain(target: TestApp): Promise<number> {
  let status = 0;
  for (let attempt = 0; attempt < 40 && status !== 201; attempt++) {
    status = (await start(target)).statusCode;
    if (status !== 201) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return status;
}

t.test('a server that accepts TCP but never answers: 503, not 500', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { target, proxy } = await behindProxy(t);
  // The connections of the start (migrations) go; the new ones meet a host that never speaks.
  await proxy.stop();
  proxy.blackhole();
  await proxy.start();
  const reply = await start(target);
  t.equal(reply.statusCode, 503);
  t.equal(reply.json().code, 'service_unavailable');
  t.match(reply.headers['content-type'], /application\/problem\+json/);
  const ready = await target.app.inject('/readyz');
  t.equal(ready.statusCode, 503, '/readyz too');
  t.equal((await target.app.inject('/healthz')).statusCode, 200, 'the process itself is alive');

  proxy.open();
  t.equal(await startsAgain(target), 201, 'recovered without a restart');
  t.equal((await target.app.inject('/readyz')).statusCode, 200);
});

t.test('a server gone silent on its open connections: 503, then recovery', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const { target, proxy } = await behindProxy(t);
  const started = await startVerification(target);
  proxy.freeze();
  const [startReply, verifyReply, readyReply] = await Promise.all([
    start(target, '+14155550111'),
    postJson(target.app, '/v1/verifications/verify', {
      phone_number: started.phone_number,
      security_code: started.code,
      session_token: started.session_token,
    }),
    target.app.inject('/readyz'),
  ]);
  t.equal(startReply.statusCode, 503, 'a start');
  t.equal(verifyReply.statusCode, 503, 'a verify');
  t.equal(verifyReply.json().code, 'service_unavailable');
  t.equal(readyReply.statusCode, 503, '/readyz');
  t.equal((await target.app.inject('/healthz')).statusCode, 200);

  proxy.thaw();
  t.equal(await startsAgain(target), 201, 'recovered: no connection that timed out was reused');
  const again = await postJson(target.app, '/v1/verifications/verify', {
    phone_number: started.phone_number,
    security_code: started.code,
    session_token: started.session_token,
  });
  // The verify sent during the silence may have reached the server when it thawed: either way the
  // code approves at most once.
  t.ok([200, 400].includes(again.statusCode), `verify after recovery: ${again.body}`);
  t.equal((await target.app.inject('/readyz')).statusCode, 200);
  t.notMatch(target.logs.text, /"level":60/, 'nothing fatal logged');
});

t.test('a row lock held by another session: its request 503s, unrelated ones keep moving', async (t) => {
  if (!(await postgresAvailable(t))) return;
  const url = await postgresUrl(t);
  const target = await build(t, {
    env: { DATABASE_URL: url, DATABASE_TIMEOUT: String(DATABASE_TIMEOUT_MS) },
  });
  const locked = await startVerification(target, '+14155550100');
  const other = new pg.Client({ connectionString: url });
  await other.connect();
  t.teardown(() => other.end());
  await other.query('BEGIN');
  await other.query('SELECT * FROM verifications WHERE id = $1 FOR UPDATE', [locked.id]);
  // Held well past the deadline; released later whatever happens, so that nothing waits forever.
  let released = false;
  const release = new Promise<void>((resolve) =>
    setTimeout(() => {
      released = true;
      other.query('COMMIT').then(() => resolve());
    }, DATABASE_TIMEOUT_MS * 4),
  );
  const answered = <T>(pending: Promise<T>) => pending.then((reply) => ({ reply, released }));

  const blocked = answered(
    postJson(target.app, '/v1/verifications/verify', {
      phone_number: locked.phone_number,
      security_code: locked.code,
      session_token: locked.session_token,
    }),
  );
  const unrelated = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      answered(start(target, `+1415555${String(300 + i).padStart(4, '0')}`)),
    ),
  );
  t.same(
    unrelated.map(({ reply }) => reply.statusCode),
    Array(20).fill(201),
    'twenty starts for other numbers succeed',
  );
  t.ok(
    unrelated.every((answer) => !answer.released),
    'all answered while the lock was held',
  );
  const { reply, released: afterRelease } = await blocked;
  t.equal(reply.statusCode, 503, 'the verify of the locked session');
  t.equal(reply.json().code, 'service_unavailable');
  t.equal(afterRelease, false, 'answered at its deadline, before the lock was released');
  await release;
  const retried = await postJson(target.app, '/v1/verifications/verify', {
    phone_number: locked.phone_number,
    security_code: locked.code,
    session_token: locked.session_token,
  });
  t.equal(retried.statusCode, 200, 'retried once the lock is gone: approved (the 503 changed nothing)');
});
