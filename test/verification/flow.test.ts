// Every outcome of the verification flow (docs/api.md), over HTTP, on SQLite and PostgreSQL.
import t from 'tap';
import {
  build,
  DATABASES,
  databaseUrl,
  expire,
  postJson,
  runSql,
  startVerification,
  type TestApp,
} from '../helper.js';

const PHONE = '+14155550100';

function verify(
  target: TestApp,
  body: { phone_number: string; security_code: string; session_token: string },
) {
  return postJson(target.app, '/v1/verifications/verify', body);
}

for (const kind of DATABASES) {
  t.test(`flow on ${kind}`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const target = await build(t, { env: { DATABASE_URL: url } });

    t.test('start answers 201 with the session, normalised number and expiry', async (t) => {
      const before = Date.now();
      const reply = await postJson(target.app, '/v1/verifications', { phone_number: '+1 (415) 555-0100' });
      t.equal(reply.statusCode, 201);
      t.match(reply.headers['content-type'], /application\/json/);
      const body = reply.json();
      t.same(Object.keys(body).sort(), ['expires_at', 'id', 'phone_number', 'session_token', 'status']);
      t.equal(body.phone_number, PHONE);
      t.equal(body.status, 'pending');
      t.ok(Buffer.from(body.session_token, 'base64url').length >= 16, 'token carries at least 128 bits');
      const expiresIn = Date.parse(body.expires_at) - before;
      t.ok(expiresIn > 3_590_000 && expiresIn <= 3_600_000 + 5_000, `expires in an hour (${expiresIn} ms)`);
      t.match(target.lastCode(PHONE), /^\d{6}$/);
    });

    t.test('right code approves once; single-use codes then answer already_verified', async (t) => {
      const s = await startVerification(target);
      const ok = await verify(target, {
        phone_number: s.phone_number,
        security_code: s.code,
        session_token: s.session_token,
      });
      t.equal(ok.statusCode, 200);
      t.equal(ok.json().status, 'approved');
      t.equal(ok.json().phone_number, PHONE);
      const again = await verify(target, {
        phone_number: s.phone_number,
        security_code: s.code,
        session_token: s.session_token,
      });
      t.equal(again.statusCode, 400);
      t.equal(again.json().code, 'security_code_already_verified');
      const view = (await target.app.inject(`/v1/verifications/${s.id}`)).json();
      t.equal(view.status, 'approved');
      t.equal(view.verified_at, ok.json().verified_at);
    });

    t.test('the number may be spelled differently when verifying', async (t) => {
      const s = await startVerification(target);
      const ok = await verify(target, {
        phone_number: '001 415-555-0100',
        security_code: s.code,
        session_token: s.session_token,
      });
      t.equal(ok.statusCode, 200, ok.body);
    });

    t.test('wrong code is security_code_invalid and counts one attempt', async (t) => {
      const s = await startVerification(target);
      const wrong = s.code === '000000' ? '111111' : '000000';
      const reply = await verify(target, {
        phone_number: s.phone_number,
        security_code: wrong,
        session_token: s.session_token,
      });
      t.equal(reply.statusCode, 400);
      t.equal(reply.json().code, 'security_code_invalid');
      t.match(reply.headers['content-type'], /application\/problem\+json/);
      t.equal((await target.app.inject(`/v1/verifications/${s.id}`)).json().attempts, 1);
    });

    t.test('a token/number pair that matches no session is invalid and counts against none', async (t) => {
      const s = await startVerification(target);
      const otherNumber = await verify(target, {
        phone_number: '+14155550101',
        security_code: s.code,
        session_token: s.session_token,
      });
      t.equal(otherNumber.json().code, 'security_code_invalid');
      const otherToken = await verify(target, {
        phone_number: s.phone_number,
        security_code: s.code,
        session_token: 'x'.repeat(43),
      });
      t.equal(otherToken.json().code, 'security_code_invalid');
      const view = (await target.app.inject(`/v1/verifications/${s.id}`)).json();
      t.equal(view.attempts, 0);
      t.equal(view.status, 'pending');
      const ok = await verify(target, {
        phone_number: s.phone_number,
        security_code: s.code,
        session_token: s.session_token,
      });
      t.equal(ok.statusCode, 200);
    });

    t.test('right code after expiry is security_code_expired; status reads expired', async (t) => {
      const s = await startVerification(target);
      await expire(url, s.id);
      const reply = await verify(target, {
        phone_number: s.phone_number,
        security_code: s.code,
        session_token: s.session_token,
      });
      t.equal(reply.statusCode, 400);
      t.equal(reply.json().code, 'security_code_expired');
      t.equal((await target.app.inject(`/v1/verifications/${s.id}`)).json().status, 'expired');
    });

    t.test('MAX_FAILED_ATTEMPTS wrong codes lock the session, the right code included', async (t) => {
      const s = await startVerification(target);
      const wrong = s.code === '000000' ? '111111' : '000000';
      for (let i = 1; i <= 5; i++) {
        const reply = await verify(target, {
          phone_number: s.phone_number,
          security_code: wrong,
          session_token: s.session_token,
        });
        t.equal(reply.json().code, 'security_code_invalid', `wrong code ${i} is invalid`);
      }
      const right = await verify(target, {
        phone_number: s.phone_number,
        security_code: s.code,
        session_token: s.session_token,
      });
      t.equal(right.statusCode, 429);
      t.equal(right.json().code, 'too_many_attempts');
      const wrongAgain = await verify(target, {
        phone_number: s.phone_number,
        security_code: wrong,
        session_token: s.session_token,
      });
      t.equal(wrongAgain.json().code, 'too_many_attempts');
      const view = (await target.app.inject(`/v1/verifications/${s.id}`)).json();
      t.equal(view.status, 'locked');
      t.equal(view.verified_at, null);
    });

    t.test('a new start supersedes the number’s pending sessions once sent', async (t) => {
      const first = await startVerification(target, '+442071838750');
      const second = await startVerification(target, '+442071838750');
      t.equal((await target.app.inject(`/v1/verifications/${first.id}`)).json().status, 'canceled');
      const old = await verify(target, {
        phone_number: first.phone_number,
        security_code: first.code,
        session_token: first.session_token,
      });
      t.equal(old.json().code, 'security_code_invalid');
      const other = await startVerification(target, '+14155550123');
      t.equal(
        (await target.app.inject(`/v1/verifications/${second.id}`)).json().status,
        'pending',
        'other numbers untouched',
      );
      const ok = await verify(target, {
        phone_number: second.phone_number,
        security_code: second.code,
        session_token: second.session_token,
      });
      t.equal(ok.statusCode, 200);
      t.equal((await target.app.inject(`/v1/verifications/${other.id}`)).json().status, 'pending');
    });

    t.test('GET of an unknown id is 404 not_found', async (t) => {
      const reply = await target.app.inject('/v1/verifications/00000000-0000-4000-8000-000000000000');
      t.equal(reply.statusCode, 404);
      t.equal(reply.json().code, 'not_found');
    });

    t.test('codes and tokens never reach the database in plain text', async (t) => {
      const s = await startVerification(target, '+14155550177');
      await verify(target, {
        phone_number: s.phone_number,
        security_code: s.code,
        session_token: s.session_token,
      });
      const rows = await runSql(url, 'SELECT * FROM verifications WHERE id = $1', [s.id]);
      t.equal(rows.length, 1);
      const dump = JSON.stringify(rows);
      t.notMatch(dump, s.session_token, 'no token');
      for (const [column, value] of Object.entries(rows[0]!)) {
        t.not(String(value), s.code, `column ${column} is not the code`);
      }
      t.notMatch(JSON.stringify(rows[0]!.code_hash), s.code, 'the code is not inside its hash column');
    });
  });

  t.test(`reusable codes on ${kind}: 200 again until expiry`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const target = await build(t, {
      env: { DATABASE_URL: url, PHONE_VERIFICATION_VERIFY_SECURITY_CODE_ONLY_ONCE: 'false' },
    });
    const s = await startVerification(target);
    const body = { phone_number: s.phone_number, security_code: s.code, session_token: s.session_token };
    const first = await verify(target, body);
    const second = await verify(target, body);
    t.equal(first.statusCode, 200);
    t.equal(second.statusCode, 200);
    t.equal(second.json().verified_at, first.json().verified_at, 'verified_at is the first approval');
    await expire(url, s.id);
    const late = await verify(target, body);
    t.equal(late.json().code, 'security_code_expired');
  });
}

t.test('settings shape the code and the lock', async (t) => {
  const target = await build(t, {
    env: {
      PHONE_VERIFICATION_TOKEN_LENGTH: '8',
      PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: '2',
      PHONE_VERIFICATION_SECURITY_CODE_EXPIRATION_SECONDS: '90',
    },
  });
  const before = Date.now();
  const s = await startVerification(target);
  t.match(s.code, /^\d{8}$/);
  const view = (await target.app.inject(`/v1/verifications/${s.id}`)).json();
  t.ok(Math.abs(Date.parse(view.expires_at) - before - 90_000) < 5_000, 'expiry from _SECONDS');
  const wrong = { phone_number: s.phone_number, security_code: '00000000', session_token: s.session_token };
  t.equal((await verify(target, wrong)).json().code, 'security_code_invalid');
  t.equal((await verify(target, wrong)).json().code, 'security_code_invalid');
  t.equal((await verify(target, wrong)).json().code, 'too_many_attempts');
});

t.test('message template, app name and translations chosen by locale and Accept-Language', async (t) => {
  const target = await build(t, {
    env: {
      PHONE_VERIFICATION_BACKEND: 'console',
      PHONE_VERIFICATION_APP_NAME: 'Acme',
      PHONE_VERIFICATION_MESSAGE: 'Hello from {app}: security code {security_code} {unknown}',
      PHONE_VERIFICATION_MESSAGE_DE: 'Willkommen bei {app}! Ihr security code {security_code}.',
      PHONE_VERIFICATION_MESSAGE_PT_BR: 'Bem-vindo ao {app}! security code {security_code}',
      PHONE_VERIFICATION_MESSAGE_ZH_HANT: '{app} security code {security_code}',
    },
  });
  const sentMessage = async (body: Record<string, string>, headers: Record<string, string> = {}) => {
    const reply = await postJson(target.app, '/v1/verifications', { phone_number: PHONE, ...body }, headers);
    t.equal(reply.statusCode, 201);
    const lines = target.logs.entries.filter((entry) => entry.backend === 'console');
    return String(lines.at(-1)?.message);
  };
  t.match(await sentMessage({}), /^Hello from Acme: security code \d{6} \{unknown\}$/);
  t.match(await sentMessage({ locale: 'de-AT' }), /^Willkommen bei Acme!/);
  t.match(await sentMessage({ locale: 'pt-BR' }), /^Bem-vindo ao Acme!/);
  t.match(await sentMessage({ locale: 'pt' }), /^Hello from Acme/, 'pt alone has no translation');
  t.match(await sentMessage({ locale: 'zh-Hant-TW' }), /^Acme security code/);
  t.match(await sentMessage({}, { 'accept-language': 'fr;q=0.9, de;q=0.8, en;q=0.1' }), /^Willkommen/);
  t.match(
    await sentMessage({}, { 'accept-language': 'de;q=0.2, pt-BR;q=0.7' }),
    /^Bem-vindo/,
    'highest q wins',
  );
  t.match(
    await sentMessage({ locale: 'fr' }, { 'accept-language': 'de' }),
    /^Willkommen/,
    'falls through locale to header',
  );
  t.match(await sentMessage({ locale: 'pt-BR' }, { 'accept-language': 'de' }), /^Bem-vindo/, 'locale first');
  t.match(
    await sentMessage({}, { 'accept-language': 'de;q=0' }),
    /^Hello from Acme/,
    'q=0 means not acceptable',
  );
});
