// The limits and log hygiene every instance shares: the body limit, and log lines that carry no
// API key, session token, code or secret option, with phone numbers masked by default.
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { ConsoleBackend } from '../src/backends/console.js';
import { builtInBackends } from '../src/backends/registry.js';
import { BODY_LIMIT_BYTES } from '../src/server-options.js';
import { build, postJson } from './helper.js';

t.test('a body over the limit is a 413 payload_too_large', async (t) => {
  const { app } = await build(t);
  const reply = await postJson(app, '/v1/verifications', {
    phone_number: '+14155550100',
    locale: 'x'.repeat(BODY_LIMIT_BYTES),
  });
  t.equal(reply.statusCode, 413);
  t.match(reply.headers['content-type'], /^application\/problem\+json/);
  t.match(reply.json(), { status: 413, code: 'payload_too_large' });
});

/** A backend that keeps its messages in memory and, carelessly, logs its options. */
class QuietBackend extends ConsoleBackend {
  constructor(
    options: Record<string, unknown>,
    readonly sent: { number: string; message: string }[],
  ) {
    super(options);
  }
  override sendSms(number: string, message: string): void {
    this.logger.info({ options: this.options, phone_number: number }, 'quiet backend sent a message');
    this.sent.push({ number, message });
  }
}

t.test('the log holds no key, token, code or secret, and masks numbers', async (t) => {
  const sent: { number: string; message: string }[] = [];
  const backend = `quiet-${randomBytes(4).toString('hex')}`;
  builtInBackends[backend] = (options) => new QuietBackend(options, sent);
  const apiKey = `key-${randomBytes(16).toString('hex')}`;
  const secret = `secret-${randomBytes(8).toString('hex')}`;
  const jsonToken = `token-${randomBytes(8).toString('hex')}`;
  const password = `password-${randomBytes(8).toString('hex')}`;
  const target = await build(t, {
    env: {
      LOG_LEVEL: 'debug',
      LOG_PHONE_NUMBERS: 'masked',
      API_KEYS: apiKey,
      PHONE_VERIFICATION_BACKEND: backend,
      PHONE_VERIFICATION_OPTIONS: JSON.stringify({ SANDBOX_TOKEN: jsonToken, FROM: '+15005550006' }),
      PHONE_VERIFICATION_OPTIONS_SECRET: secret,
      PHONE_VERIFICATION_OPTIONS_PASSWORD: password,
    },
  });
  const auth = { authorization: `Bearer ${apiKey}` };
  const started = await postJson(target.app, '/v1/verifications', { phone_number: '+1 415 555 0100' }, auth);
  t.equal(started.statusCode, 201, started.body);
  const { session_token: sessionToken, id } = started.json();
  const code = /security code (\d+)/.exec(sent.at(-1)?.message ?? '')?.[1];
  t.ok(code, 'the backend got the code');
  const wrong = await postJson(
    target.app,
    '/v1/verifications/verify',
    { phone_number: '+14155550100', security_code: '000000', session_token: sessionToken },
    auth,
  );
  t.equal(wrong.statusCode, 400);
  const right = await postJson(
    target.app,
    '/v1/verifications/verify',
    { phone_number: '+14155550100', security_code: code, session_token: sessionToken },
    auth,
  );
  t.equal(right.statusCode, 200);
  await target.app.inject({ method: 'GET', url: `/v1/verifications/${id}`, headers: auth });
  await postJson(
    target.app,
    '/v1/verifications',
    { phone_number: '+14155550100' },
    { authorization: 'Bearer x' },
  );

  const log = target.logs.text;
  t.ok(target.logs.lines.length > 5, 'there is a log to read');
  for (const [what, value] of Object.entries({ apiKey, sessionToken, code, secret, jsonToken, password })) {
    t.notOk(log.includes(String(value)), `no ${what} in the log`);
  }
  t.notOk(log.includes('4155550100'), 'no full phone number in the log');
  const backendLine = target.logs.entries.find((entry) => entry.msg === 'quiet backend sent a message');
  t.equal(backendLine?.phone_number, '+1415*****00', 'the number is masked');
  t.match(
    backendLine?.options,
    { secret: '[redacted]', password: '[redacted]', sandbox_token: '[redacted]', from: '+15005550006' },
    'secret backend options are redacted, the others are kept',
  );
});

t.test(
  'the console backend line masks the number by default and shows it with LOG_PHONE_NUMBERS=full',
  async (t) => {
    for (const [setting, shown] of [
      ['masked', '+1415*****00'],
      ['full', '+14155550100'],
    ] as const) {
      const target = await build(t, {
        env: { PHONE_VERIFICATION_BACKEND: 'console', LOG_PHONE_NUMBERS: setting },
      });
      const reply = await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' });
      t.equal(reply.statusCode, 201);
      const line = target.logs.entries.find((entry) => entry.backend === 'console' && entry.message);
      t.equal(line?.phone_number, shown, `LOG_PHONE_NUMBERS=${setting}`);
    }
  },
);
