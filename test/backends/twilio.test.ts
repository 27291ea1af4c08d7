// The twilio and twilio-sandbox backends through the real twilio SDK against a local fake of the
// Messages API: the exact request, every failure mode as 502 with nothing leaked, the sandbox rules.
import t from 'tap';
import { BaseBackend } from '../../src/backends/base.js';
import { createBackend } from '../../src/backends/registry.js';
import { ConfigError } from '../../src/config.js';
import { refusingUrl } from '../fakes/recording-server.js';
import { type FakeTwilio, startFakeTwilio, twilioError, twilioMessage } from '../fakes/twilio.js';
import { build, postJson } from '../helper.js';
import { expectFailedStart, expireSession, verify } from './provider-checks.js';

const SID = 'AC0123456789abcdef0123456789abcdef';
const SECRET = 'twilio-auth-token-that-must-never-be-logged';
const FROM = '+15005550006';
const PHONE = '+14155550100';
const AUTH_HEADER = `Basic ${Buffer.from(`${SID}:${SECRET}`).toString('base64')}`;

/** The Body of the first message the fake received (read when called). */
function sent(fake: FakeTwilio): () => string | undefined {
  return () => fake.requests[0] && fake.form(fake.requests[0]).Body;
}

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

t.test('every provider failure is a 502 backend_error, a failed session, and a clean log line', async (t) => {
  const neverLogged = [SECRET, AUTH_HEADER.slice('Basic '.length)];

  t.test('an error reply (400, 21211 invalid To)', async (t) => {
    const fake = await startFakeTwilio(t);
    fake.respond = (request) =>
      twilioError(400, 21211, `The 'To' number ${fake.form(request).To} is not a valid phone number.`);
    const target = await build(t, { env: twilioEnv(fake.url) });
    const { err } = await expectFailedStart(t, target, {
      phoneNumber: PHONE,
      providerCode: '21211',
      neverLogged,
      sentMessage: sent(fake),
    });
    t.equal(err.status, 400, 'and the HTTP status');
    t.match(
      String(err.message),
      /^The 'To' number \+1415\*+00 is not a valid phone number\.$/,
      'number masked',
    );
    t.equal(fake.requests.length, 1);
  });

  t.test('a 2xx reply whose message already failed', async (t) => {
    const fake = await startFakeTwilio(t);
    fake.respond = (request) =>
      twilioMessage(request, { status: 'failed', error_code: 30007, error_message: 'Message filtered' });
    const target = await build(t, { env: twilioEnv(fake.url) });
    const { err } = await expectFailedStart(t, target, {
      phoneNumber: PHONE,
      providerCode: '30007',
      neverLogged,
      sentMessage: sent(fake),
    });
    t.match(err, { message: 'Message filtered', status: 201 });
  });

  t.test('429 is not retried (no second SMS)', async (t) => {
    const fake = await startFakeTwilio(t);
    fake.respond = () => twilioError(429, 20429, 'Too Many Requests');
    const target = await build(t, { env: twilioEnv(fake.url) });
    await expectFailedStart(t, target, {
      phoneNumber: PHONE,
      providerCode: '20429',
      neverLogged,
      sentMessage: sent(fake),
    });
    // A retry would arrive after a backoff: give it the time it would take before counting.
    await new Promise((resolve) => setTimeout(resolve, 500));
    t.equal(fake.requests.length, 1, 'one request only');
  });

  t.test('a 5xx reply that is not JSON', async (t) => {
    const fake = await startFakeTwilio(t);
    fake.respond = () => ({ status: 503, body: '<html>upstream unavailable</html>' });
    const target = await build(t, { env: twilioEnv(fake.url) });
    const { err } = await expectFailedStart(t, target, {
      phoneNumber: PHONE,
      providerCode: 'HTTP_503',
      neverLogged,
      sentMessage: sent(fake),
    });
    t.equal(err.status, 503);
    t.equal(fake.requests.length, 1);
  });

  t.test('a provider that never answers times out after TIMEOUT', async (t) => {
    const fake = await startFakeTwilio(t);
    fake.respond = () => 'hang';
    const target = await build(t, {
      env: twilioEnv(fake.url, { PHONE_VERIFICATION_OPTIONS_TIMEOUT: '300' }),
    });
    const { err } = await expectFailedStart(t, target, {
      phoneNumber: PHONE,
      providerCode: 'ETIMEDOUT',
      neverLogged,
      sentMessage: sent(fake),
    });
    t.match(String(err.message), /did not answer within 300 ms/);
    t.equal(fake.requests.length, 1, 'no retry after the timeout');
  });

  t.test('a dropped connection', async (t) => {
    const fake = await startFakeTwilio(t);
    fake.respond = () => 'drop';
    const target = await build(t, { env: twilioEnv(fake.url) });
    await expectFailedStart(t, target, {
      phoneNumber: PHONE,
      providerCode: 'ECONNRESET',
      neverLogged,
      sentMessage: sent(fake),
    });
    t.equal(fake.requests.length, 1);
  });

  t.test('connection refused', async (t) => {
    const target = await build(t, { env: twilioEnv(await refusingUrl()) });
    await expectFailedStart(t, target, { phoneNumber: PHONE, providerCode: 'ECONNREFUSED', neverLogged });
  });
});

t.test('a failed session never verifies, even with the code the provider got', async (t) => {
  const fake = await startFakeTwilio(t);
  fake.respond = (request) => twilioMessage(request, { status: 'undelivered', error_code: 30003 });
  const target = await build(t, { env: twilioEnv(fake.url) });
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(reply.statusCode, 502);
  const code = /security code (\d+)/.exec(fake.form(fake.requests[0]!).Body!)![1]!;
  const attempt = await verify(target, PHONE, code, 'a'.repeat(43));
  t.equal(attempt.statusCode, 400);
  t.equal(attempt.json().code, 'security_code_invalid');
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
