// The vonage/nexmo backends and their sandboxes through the real @vonage/server-sdk against a local
// fake of the SMS API: the exact request, the options, the sandbox, bulk sends. How failures are
// answered and logged is provider-contract.test.ts.
import t from 'tap';
import { BaseBackend } from '../../src/backends/base.js';
import { createBackend } from '../../src/backends/registry.js';
import { ConfigError } from '../../src/config.js';
import { startFakeVonage, vonageRefused, vonageSent } from '../fakes/vonage.js';
import { build, postJson } from '../helper.js';
import { expireSession, verify } from './provider-checks.js';

const KEY = 'a1b2c3d4';
const SECRET = 'vonage-api-secret-never-logged';
const FROM = 'PhoneVerify';
const PHONE = '+14155550100';
const AUTH_HEADER = `Basic ${Buffer.from(`${KEY}:${SECRET}`).toString('base64')}`;

function vonageEnv(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PHONE_VERIFICATION_BACKEND: 'vonage',
    PHONE_VERIFICATION_OPTIONS_KEY: KEY,
    PHONE_VERIFICATION_OPTIONS_SECRET: SECRET,
    PHONE_VERIFICATION_OPTIONS_FROM: FROM,
    PHONE_VERIFICATION_OPTIONS_BASE_URL: baseUrl,
    ...extra,
  };
}

for (const name of ['vonage', 'nexmo']) {
  t.test(`${name} sends one SMS API request and the code it carried verifies`, async (t) => {
    const fake = await startFakeVonage(t);
    const target = await build(t, { env: vonageEnv(fake.url, { PHONE_VERIFICATION_BACKEND: name }) });

    const started = await postJson(target.app, '/v1/verifications', { phone_number: '+1 415-555-0100' });
    t.equal(started.statusCode, 201, started.body);
    const session = started.json();

    t.equal(fake.requests.length, 1, 'exactly one request');
    const [request] = fake.requests;
    t.equal(request!.method, 'POST');
    t.equal(request!.path, '/sms/json');
    t.equal(request!.headers.authorization, AUTH_HEADER, 'Basic auth KEY:SECRET');
    t.match(request!.headers['content-type'], /^application\/json/);
    const body = fake.json(request!);
    t.same(Object.keys(body).sort(), ['from', 'text', 'to'], 'to, from, text and nothing else');
    t.equal(body.to, '14155550100', 'E.164 without the +, as the SMS API wants');
    t.equal(body.from, FROM);
    t.match(body.text, /^Welcome to Phone Verify! Please use security code \d{6} to proceed\.$/);
    const code = /security code (\d+)/.exec(String(body.text))![1]!;

    t.notOk(target.logs.text.includes(code), 'the code is not logged');
    t.notOk(target.logs.text.includes(SECRET), 'the secret is not logged');

    const ok = await verify(target, PHONE, code, session.session_token);
    t.equal(ok.statusCode, 200, ok.body);
    t.equal(ok.json().status, 'approved');
  });
}

t.test('a message outside ASCII goes as type unicode', async (t) => {
  const fake = await startFakeVonage(t);
  const target = await build(t, {
    env: vonageEnv(fake.url, {
      PHONE_VERIFICATION_MESSAGE_DE: 'Willkommen bei {app}! Ihr Sicherheitscode: {security_code}. Grüße',
    }),
  });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE, locale: 'de' });
  t.equal(started.statusCode, 201, started.body);
  const body = fake.json(fake.requests[0]!);
  t.equal(body.type, 'unicode');
  t.match(body.text, /^Willkommen bei Phone Verify! Ihr Sicherheitscode: \d{6}\. Grüße$/);
});

for (const name of ['vonage-sandbox', 'nexmo-sandbox']) {
  t.test(`${name}: the code is SANDBOX_TOKEN, valid again and after expiry; wrong codes lock`, async (t) => {
    const fake = await startFakeVonage(t);
    const token = '777000';
    const target = await build(t, {
      env: vonageEnv(fake.url, {
        PHONE_VERIFICATION_BACKEND: name,
        PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: token,
        PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: '2',
      }),
    });

    const first = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
    t.equal(first.statusCode, 201, first.body);
    const session = first.json();
    t.equal(fake.requests.length, 1, 'the message is still sent through the provider');
    t.equal(fake.requests[0]!.path, '/sms/json');
    t.equal(
      fake.json(fake.requests[0]!).text,
      `Welcome to Phone Verify! Please use security code ${token} to proceed.`,
    );

    for (const round of ['first', 'second']) {
      const ok = await verify(target, PHONE, token, session.session_token);
      t.equal(ok.statusCode, 200, `${round} verify: ${ok.body}`);
    }
    expireSession(target, session.id);
    const late = await verify(target, PHONE, token, session.session_token);
    t.equal(late.statusCode, 200, `after expiry: ${late.body}`);

    const second = (await postJson(target.app, '/v1/verifications', { phone_number: PHONE })).json();
    for (let attempt = 1; attempt <= 2; attempt++) {
      const wrong = await verify(target, PHONE, `${token}0`, second.session_token);
      t.equal(wrong.json().code, 'security_code_invalid', `wrong code ${attempt}`);
    }
    const locked = await verify(target, PHONE, token, second.session_token);
    t.equal(locked.json().code, 'too_many_attempts');
  });
}

t.test('a missing option stops the start with one line naming it and the backend', async (t) => {
  const options = { key: KEY, secret: SECRET, from: FROM };
  await t.rejects(createBackend('vonage', { secret: SECRET, from: FROM }, { pluginsDir: '.' }), {
    name: 'ConfigError',
    message: 'PHONE_VERIFICATION_OPTIONS_KEY: required by the vonage backend',
  });
  await t.rejects(createBackend('nexmo', { key: KEY, from: FROM }, { pluginsDir: '.' }), {
    message: 'PHONE_VERIFICATION_OPTIONS_SECRET: required by the nexmo backend',
  });
  await t.rejects(createBackend('vonage-sandbox', options, { pluginsDir: '.' }), {
    message: 'PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: required by the vonage-sandbox backend',
  });
  await t.rejects(createBackend('nexmo-sandbox', { ...options, sandbox_token: '' }, { pluginsDir: '.' }), {
    message: 'PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: required by the nexmo-sandbox backend',
  });

  const error = await build(t, {
    env: {
      PHONE_VERIFICATION_BACKEND: 'vonage',
      PHONE_VERIFICATION_OPTIONS_KEY: KEY,
      PHONE_VERIFICATION_OPTIONS_SECRET: SECRET,
    },
  }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  t.ok(error instanceof ConfigError, 'the app does not start');
  t.equal((error as Error).message, 'PHONE_VERIFICATION_OPTIONS_FROM: required by the vonage backend');
});

t.test(
  'sendBulkSms: bounded concurrency, one outcome per number, a failure does not stop the rest',
  async (t) => {
    const fake = await startFakeVonage(t);
    const bad = '14155550104';
    fake.respond = (request) =>
      fake.json(request).to === bad
        ? vonageRefused('6', 'Invalid Message')
        : { ...vonageSent(request), delayMs: 30 };
    const backend = await createBackend(
      'nexmo',
      { key: KEY, secret: SECRET, from: FROM, base_url: fake.url },
      { pluginsDir: '.' },
    );
    const numbers = Array.from({ length: 11 }, (_, i) => `+141555501${String(i).padStart(2, '0')}`);
    const outcomes = await backend.sendBulkSms(numbers, 'Bulk hello');
    t.same(
      outcomes.map((outcome) => outcome.number),
      numbers,
      'one outcome per number, in order',
    );
    t.same(
      outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.number),
      [`+${bad}`],
    );
    t.match(
      outcomes.find((outcome) => !outcome.ok),
      { error: 'Invalid Message' },
    );
    t.ok(
      outcomes
        .filter((outcome) => outcome.ok)
        .every((outcome) =>
          /^[0-9a-f]{32}$/.test(String((outcome.result as { messageId: string }).messageId)),
        ),
    );
    t.equal(fake.requests.length, numbers.length, 'one request per number, none retried');
    t.ok(fake.maxInFlight <= BaseBackend.bulkConcurrency, `at most ${BaseBackend.bulkConcurrency} at once`);
    t.ok(fake.maxInFlight > 1, 'sends overlap');
  },
);
