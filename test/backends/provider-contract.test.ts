// The provider contract, one table for both providers: whatever goes wrong between the service and
// Twilio or Vonage (an error reply, a refusal inside a 2xx, throttling, a proxy's HTML page, no
// answer, a dropped or refused connection, an error that quotes the request's Authorization), the
// start answers 502 backend_error, sends once, leaves a failed session, and logs one line with the
// provider's code and status and nothing secret: no credential in any encoding, no message, no
// code, no full number. Each provider runs through its real SDK against a local fake.
import t, { type Test } from 'tap';
import { type Responder, refusingUrl } from '../fakes/recording-server.js';
import { startFakeTwilio, twilioError, twilioMessage } from '../fakes/twilio.js';
import { startFakeVonage, vonageRefused } from '../fakes/vonage.js';
import { build, postJson, type TestApp } from '../helper.js';

const PHONE = '+14155550100';
const FAILED_LINE = 'SMS backend failed to send; verification marked failed';

interface Fake {
  url: string;
  requests: unknown[];
  respond: Responder;
  /** the message text of the first request, if one arrived */
  firstMessage(): string | undefined;
}

interface Provider {
  name: string;
  user: string;
  secret: string;
  env(baseUrl: string): Record<string, string>;
  fake(t: Test): Promise<Fake>;
}

interface FailureCase {
  name: string;
  /** what the fake answers; undefined: nothing listens (connection refused) */
  respond?: Responder;
  env?: Record<string, string>;
  code: string;
  status?: number;
  message?: RegExp;
  /** wait this long before counting requests, for a retry that would come after a backoff */
  settleMs?: number;
}

const twilioProvider: Provider = {
  name: 'twilio',
  user: 'AC0123456789abcdef0123456789abcdef',
  secret: 'twilio-auth-token-that-must-never-be-logged',
  env(baseUrl) {
    return {
      PHONE_VERIFICATION_BACKEND: 'twilio',
      PHONE_VERIFICATION_OPTIONS_SID: this.user,
      PHONE_VERIFICATION_OPTIONS_SECRET: this.secret,
      PHONE_VERIFICATION_OPTIONS_FROM: '+15005550006',
      PHONE_VERIFICATION_OPTIONS_BASE_URL: baseUrl,
    };
  },
  async fake(t) {
    const fake = await startFakeTwilio(t);
    return Object.assign(fake, {
      firstMessage: () => (fake.requests[0] ? fake.form(fake.requests[0]).Body : undefined),
    });
  },
};

const vonageProvider: Provider = {
  name: 'vonage',
  user: 'a1b2c3d4',
  secret: 'vonage-api-secret-never-logged',
  env(baseUrl) {
    return {
      PHONE_VERIFICATION_BACKEND: 'vonage',
      PHONE_VERIFICATION_OPTIONS_KEY: this.user,
      PHONE_VERIFICATION_OPTIONS_SECRET: this.secret,
      PHONE_VERIFICATION_OPTIONS_FROM: 'PhoneVerify',
      PHONE_VERIFICATION_OPTIONS_BASE_URL: baseUrl,
    };
  },
  async fake(t) {
    const fake = await startFakeVonage(t);
    return Object.assign(fake, {
      firstMessage: () => (fake.requests[0] ? String(fake.json(fake.requests[0]).text) : undefined),
    });
  },
};

const basic = (p: Provider) => Buffer.from(`${p.user}:${p.secret}`).toString('base64');
const formTo = (body: string) => new URLSearchParams(body).get('To');
const jsonTo = (body: string) => JSON.parse(body).to as string;

/** Cases every provider has: the transport and the HTTP layer fail alike. */
function transportCases(provider: Provider): FailureCase[] {
  return [
    {
      name: 'a provider that never answers times out after TIMEOUT',
      respond: () => 'hang',
      env: { PHONE_VERIFICATION_OPTIONS_TIMEOUT: '300' },
      code: 'ETIMEDOUT',
      message: new RegExp(`^${provider.name} did not answer within 300 ms$`),
    },
    { name: 'a dropped connection', respond: () => 'drop', code: 'ECONNRESET' },
    {
      name: 'connection refused',
      code: 'ECONNREFUSED',
      message: new RegExp(`^${provider.name} could not be reached \\(ECONNREFUSED\\)$`),
    },
  ];
}

const TABLE: [Provider, FailureCase[]][] = [
  [
    twilioProvider,
    [
      {
        name: 'an error reply quoting the number (400, 21211 invalid To)',
        respond: (request) =>
          twilioError(400, 21211, `The 'To' number ${formTo(request.body)} is not a valid phone number.`),
        code: '21211',
        status: 400,
        message: /^The 'To' number \+1415\*+00 is not a valid phone number\.$/,
      },
      {
        name: 'a 2xx reply whose message already failed',
        respond: (request) =>
          twilioMessage(request, { status: 'failed', error_code: 30007, error_message: 'Message filtered' }),
        code: '30007',
        status: 201,
        message: /^Message filtered$/,
      },
      {
        name: '429 is not retried (no second SMS)',
        respond: () => twilioError(429, 20429, 'Too Many Requests'),
        code: '20429',
        status: 429,
        settleMs: 500,
      },
      {
        name: 'a 5xx reply that is not JSON',
        respond: () => ({ status: 503, body: '<html>upstream unavailable</html>' }),
        code: 'HTTP_503',
        status: 503,
      },
      {
        name: 'an error that quotes the Authorization header',
        respond: () =>
          twilioError(
            401,
            20003,
            `Authenticate: rejected "Authorization: Basic ${basic(twilioProvider)}" (token ${Buffer.from(twilioProvider.secret).toString('base64')})`,
          ),
        code: '20003',
        status: 401,
        message: /^Authenticate: rejected "Authorization: Basic \[redacted\]" \(token \[redacted\]\)$/,
      },
      ...transportCases(twilioProvider),
    ],
  ],
  [
    vonageProvider,
    [
      {
        name: 'a refusal inside a 200 reply quoting the number (status "29")',
        respond: (request) =>
          vonageRefused('29', `Non White-listed Destination - rejected: ${jsonTo(request.body)}`),
        code: '29',
        status: 200,
        message: /^Non White-listed Destination - rejected: 1415\*+00$/,
      },
      {
        name: 'a refusal inside a 200 reply (status "2", missing parameter)',
        respond: () => vonageRefused('2', 'Missing to param'),
        code: '2',
        status: 200,
        message: /^Missing to param$/,
      },
      {
        name: 'status "1" (throttled) is not retried',
        respond: () => vonageRefused('1', 'Throughput Rate Exceeded'),
        code: '1',
        status: 200,
        settleMs: 500,
      },
      {
        name: 'an HTTP error reply with a JSON body',
        respond: () => ({ status: 500, body: { 'error-code': '500', 'error-code-label': 'Internal Error' } }),
        code: '500',
        status: 500,
        message: /^Internal Error$/,
      },
      {
        name: 'an HTTP error reply that is not JSON',
        respond: () => ({ status: 401, body: '<html>Unauthorized</html>' }),
        code: 'HTTP_401',
        status: 401,
      },
      {
        name: 'an error that quotes the Authorization header',
        respond: () => ({
          status: 401,
          body: {
            type: 'https://developer.vonage.com/api-errors#unauthorized',
            title: `Bad credentials: Authorization: Basic ${basic(vonageProvider)}; also tried Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig`,
          },
        }),
        code: 'HTTP_401',
        status: 401,
        message: /^Bad credentials: Authorization: Basic \[redacted\]; also tried Bearer \[redacted\]$/,
      },
      ...transportCases(vonageProvider),
    ],
  ],
];

/** Starts once against the failing provider and checks what the caller, the log and the store hold. */
async function expectFailedStart(
  t: Test,
  target: TestApp,
  fake: Fake | undefined,
  provider: Provider,
  expected: FailureCase,
) {
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(reply.statusCode, 502, 'answers 502');
  t.match(reply.headers['content-type'], /^application\/problem\+json/);
  const problem = reply.json();
  t.match(problem, { status: 502, code: 'backend_error' });
  t.notOk('id' in problem || 'session_token' in problem, 'no session is handed out');

  const lines = target.logs.entries.filter((entry) => entry.msg === FAILED_LINE);
  t.equal(lines.length, 1, 'the failure is logged once');
  const line = lines[0] ?? {};
  t.equal(line.backend, provider.name);
  t.equal(line.phone_number, '+1415*****00', 'the number is masked by the logger');
  const err = (line.err ?? {}) as Record<string, unknown>;
  t.equal(err.type, 'SmsProviderError');
  t.equal(String(err.code), expected.code, "the provider's code");
  t.equal(err.status, expected.status, "the provider's HTTP status");
  t.ok(typeof err.message === 'string' && err.message.length > 0, "the provider's message");
  if (expected.message) t.match(err.message, expected.message);

  const logs = target.logs.text;
  for (const secret of [provider.secret, basic(provider), Buffer.from(provider.secret).toString('base64')]) {
    t.notOk(logs.includes(secret), `log never holds ${secret.slice(0, 6)}…`);
  }
  t.notOk(logs.includes(PHONE.slice(2)), 'log never holds the full number');
  const sent = fake?.firstMessage();
  if (fake) {
    t.ok(sent, 'the provider received the message');
    const code = /security code (\d+)/.exec(sent ?? '')?.[1];
    t.ok(code, 'the message carried a code');
    t.notOk(sent && logs.includes(sent), 'log never holds the message');
    if (code) t.notOk(logs.includes(code), 'log never holds the code');
    if (expected.settleMs) await new Promise((resolve) => setTimeout(resolve, expected.settleMs));
    t.equal(fake.requests.length, 1, 'one request, no retry');
  }

  const view = await target.app.inject({ method: 'GET', url: `/v1/verifications/${line.verification_id}` });
  t.equal(view.statusCode, 200);
  t.equal(view.json().status, 'failed', 'the session is marked failed');
}

for (const [provider, cases] of TABLE) {
  t.test(
    `${provider.name}: every provider failure is a 502, a failed session and one clean log line`,
    async (t) => {
      for (const failure of cases) {
        await t.test(failure.name, async (t) => {
          const fake = failure.respond ? await provider.fake(t) : undefined;
          if (fake && failure.respond) fake.respond = failure.respond;
          const target = await build(t, {
            env: {
              ...provider.env(fake ? fake.url : await refusingUrl()),
              LOG_PHONE_NUMBERS: 'masked',
              ...failure.env,
            },
          });
          await expectFailedStart(t, target, fake, provider, failure);
        });
      }
    },
  );
}
