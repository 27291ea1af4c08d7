// The twilio and twilio-sandbox backends through the real twilio SDK against a local fake of the
// Messages API: the exact request, the options, the sandbox rules, bulk sends. How failures are
// answered and logged is provider-contract.test.ts.
import t from 'tap';
import { BaseBackend } from '../../src/backends/base.js';
import { createBackend } from '../../src/backends/registry.js';
import { ConfigError } from '../../src/config.js';
import { startFakeTwilio, twilioError, twilioMessage } from '../fakes/twilio.js';
import { build, postJson } from '../helper.js';
import { expireSession, verify } from './provider-checks.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const SECRET = 'twilio-auth-token-that-must-never-be-logged';
const FROM = '+15005550006';
const PHONE = '+14155550100';
const AUTH_HEADER = `Basic ${Buffer.from(`${SID}:${SECRET}`).toString('base64')}`;

function twilioEnv(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PHONE_VERIFICATION_BACKEND: 'twilio',
    PHONE_VERIFICATION_OPTIONS_SID: SID,
    PHONE_VERIFICATION_OPTIONS_SECRET: SECRET,
    PHONE_VERIFICATION_OPTIONS_FROM: FROM,
    PHONE_VERIFICATION_OPTIONS_BASE_URL: baseUrl,
    ...extra,
  };
}

t.test('twilio sends one Messages API request and the code it carried verifies', async (t) => {
  const fake = await startFakeTwilio(t);
  const target = await build(t, { env: twilioEnv(fake.url) });

  const started = await postJson(target.app, '/v1/verifications', { phone_number: '+1 (415) 555-0100' });
  t.equal(started.statusCode, 201, started.body);
  const session = started.json();

  t.equal(fake.requests.length, 1, 'exactly one request');
  const [request] = fake.requests;
  t.equal(request!.method, 'POST');
  t.equal(request!.path, `/2010-04-01/Accounts/${SID}/Messages.json`);
  t.equal(request!.headers.authorization, AUTH_HEADER, 'Basic auth SID:SECRET');
  t.match(request!.headers['content-type'], /^application\/x-www-form-urlencoded/);
  const form = fake.form(request!);
  t.same(Object.keys(form).sort(), ['Body', 'From', 'To']);
  t.equal(form.To, PHONE);
  t.equal(form.From, FROM);
  t.match(form.Body, /^Welcome to Phone Verify! Please use security code \d{6} to proceed\.$/);
  const code = /security code (\d+)/.exec(form.Body!)![1]!;

  t.notOk(target.logs.text.includes(code), 'the code is not logged');
  t.notOk(target.logs.text.includes(SECRET), 'the secret is not logged');

  const wrong = await verify(target, PHONE, code === '000000' ? '111111' : '000000', session.session_token);
  t.equal(wrong.json().code, 'security_code_invalid');
  const ok = await verify(target, PHONE, code, session.session_token);
  t.equal(ok.statusCode, 200, ok.body);
  t.equal(ok.json().status, 'approved');
});

t.test('option keys are case-insensitive, from the JSON and per variable', async (t) => {
  const fake = await startFakeTwilio(t);
  const target = await build(t, {
    env: {
      PHONE_VERIFICATION_BACKEND: 'TWILIO',
      PHONE_VERIFICATION_OPTIONS: JSON.stringify({ Sid: SID, secret: SECRET, FROM, base_url: fake.url }),
    },
  });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(started.statusCode, 201, started.body);
  t.equal(fake.requests[0]?.headers.authorization, AUTH_HEADER);
});

t.test('BASE_URL may carry a path prefix (a proxy mounted below a path)', async (t) => {
  const fake = await startFakeTwilio(t);
  const target = await build(t, { env: twilioEnv(`${fake.url}/twilio-proxy/`) });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(started.statusCode, 201, started.body);
  t.equal(fake.requests[0]?.path, `/twilio-proxy/2010-04-01/Accounts/${SID}/Messages.json`);
});

t.test(
  'twilio-sandbox: the code is SANDBOX_TOKEN, valid again and after expiry; wrong codes lock',
  async (t) => {
    const fake = await startFakeTwilio(t);
    const token = '424242';
    const target = await build(t, {
      env: twilioEnv(fake.url, {
        PHONE_VERIFICATION_BACKEND: 'twilio-sandbox',
        PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: token,
        PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: '3',
      }),
    });

    const first = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
    t.equal(first.statusCode, 201, first.body);
    const session = first.json();
    t.equal(fake.requests.length, 1, 'the message is still sent through the provider');
    t.equal(
      fake.form(fake.requests[0]!).Body,
      `Welcome to Phone Verify! Please use security code ${token} to proceed.`,
    );
    t.equal(fake.requests[0]!.headers.authorization, AUTH_HEADER);

    for (const round of ['first', 'second']) {
      const ok = await verify(target, PHONE, token, session.session_token);
      t.equal(ok.statusCode, 200, `${round} verify: ${ok.body}`);
    }
    expireSession(target, session.id);
    const late = await verify(target, PHONE, token, session.session_token);
    t.equal(late.statusCode, 200, `after expiry: ${late.body}`);

    const second = (await postJson(target.app, '/v1/verifications', { phone_number: PHONE })).json();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const wrong = await verify(target, PHONE, '000000', second.session_token);
      t.equal(wrong.json().code, 'security_code_invalid', `wrong code ${attempt}`);
    }
    const locked = await verify(target, PHONE, token, second.session_token);
    t.equal(locked.statusCode, 429);
    t.equal(locked.json().code, 'too_many_attempts');
    const view = await target.app.inject({ method: 'GET', url: `/v1/verifications/${second.id}` });
    t.match(view.json(), { status: 'locked', attempts: 3 });
  },
);

t.test('a missing option stops the start with one line naming it and the backend', async (t) => {
  const options = { sid: SID, secret: SECRET, from: FROM };
  await t.rejects(createBackend('twilio', { secret: SECRET, from: FROM }, { pluginsDir: '.' }), {
    name: 'ConfigError',
    message: 'PHONE_VERIFICATION_OPTIONS_SID: required by the twilio backend',
  });
  await t.rejects(createBackend('twilio', {}, { pluginsDir: '.' }), {
    message:
      'PHONE_VERIFICATION_OPTIONS_SID, PHONE_VERIFICATION_OPTIONS_SECRET, PHONE_VERIFICATION_OPTIONS_FROM: required by the twilio backend',
  });
  await t.rejects(createBackend('twilio-sandbox', options, { pluginsDir: '.' }), {
    message: 'PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: required by the twilio-sandbox backend',
  });
  await t.rejects(createBackend('twilio', { ...options, from: '  ' }, { pluginsDir: '.' }), {
    message: 'PHONE_VERIFICATION_OPTIONS_FROM: required by the twilio backend',
  });
  await t.rejects(createBackend('twilio', { ...options, sid: 'SK0123' }, { pluginsDir: '.' }), {
    message: 'PHONE_VERIFICATION_OPTIONS_SID: expected a Twilio account SID (AC…) for the twilio backend',
  });
  await t.rejects(createBackend('twilio', { ...options, timeout: 'soon' }, { pluginsDir: '.' }), {
    message: /^PHONE_VERIFICATION_OPTIONS_TIMEOUT: expected milliseconds/,
  });
  await t.rejects(createBackend('twilio', { ...options, base_url: 'ftp://x' }, { pluginsDir: '.' }), {
    message: /^PHONE_VERIFICATION_OPTIONS_BASE_URL: expected an http\(s\) URL/,
  });

  const error = await build(t, {
    env: {
      PHONE_VERIFICATION_BACKEND: 'twilio',
      PHONE_VERIFICATION_OPTIONS_SID: SID,
      PHONE_VERIFICATION_OPTIONS_SECRET: SECRET,
    },
  }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  t.ok(error instanceof ConfigError, 'the app does not start');
  t.equal((error as Error).message, 'PHONE_VERIFICATION_OPTIONS_FROM: required by the twilio backend');
  t.notOk((error as Error).message.includes(SECRET));
});

t.test(
  'sendBulkSms: bounded concurrency, one outcome per number, a failure does not stop the rest',
  async (t) => {
    const fake = await startFakeTwilio(t);
    const bad = '+14155550103';
    fake.respond = (request) =>
      fake.form(request).To === bad
        ? twilioError(400, 21211, 'invalid To')
        : { ...twilioMessage(request), delayMs: 30 };
    const backend = await createBackend(
      'twilio',
      { sid: SID, secret: SECRET, from: FROM, base_url: fake.url },
      { pluginsDir: '.' },
    );
    const numbers = Array.from({ length: 12 }, (_, i) => `+141555501${String(i).padStart(2, '0')}`);
    const outcomes = await backend.sendBulkSms(numbers, 'Bulk hello');
    t.equal(outcomes.length, numbers.length);
    t.same(
      outcomes.map((outcome) => outcome.number),
      numbers,
      'in the order given',
    );
    t.same(
      outcomes.filter((outcome) => !outcome.ok).map((outcome) => outcome.number),
      [bad],
    );
    t.match(
      outcomes.find((outcome) => !outcome.ok),
      { error: 'invalid To' },
    );
    t.ok(
      outcomes
        .filter((outcome) => outcome.ok)
        .every((outcome) => /^SM/.test((outcome.result as { sid: string }).sid)),
    );
    t.equal(fake.requests.length, numbers.length, 'one request per number, none retried');
    t.ok(
      fake.maxInFlight <= BaseBackend.bulkConcurrency,
      `at most ${BaseBackend.bulkConcurrency} at once (saw ${fake.maxInFlight})`,
    );
    t.ok(fake.maxInFlight > 1, 'sends overlap');
  },
);
