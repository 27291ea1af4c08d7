// PHONE_VERIFICATION_FALLBACK_BACKEND through the HTTP API: the real twilio and @vonage/server-sdk
// SDKs against local fakes that fail, hang and recover. A failed primary hands the message to the
// fallback; both sends are recorded; only when both fail is the start 502 and the session failed.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startFakeTwilio, twilioError, twilioMessage } from '../fakes/twilio.js';
import { startFakeVonage, vonageRefused, vonageSent } from '../fakes/vonage.js';
import { build, DATABASES, databaseUrl, postJson, runSql, type TestApp } from '../helper.js';
import { twilioEnv, VONAGE_SECRET, vonageEnv } from './providers.js';

const PHONE = '+14155550100';

async function metric(target: TestApp, line: RegExp): Promise<number | undefined> {
  const body = (await target.app.inject('/metrics')).body;
  const match = body.split('\n').find((row) => line.test(row));
  return match === undefined ? undefined : Number(match.split(' ').at(-1));
}

function codeIn(text: string): string {
  return /security code (\d+)/.exec(text)![1]!;
}

for (const kind of DATABASES) {
  t.test(`${kind}: the primary fails, the fallback sends, the code verifies`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const twilio = await startFakeTwilio(t);
    const vonage = await startFakeVonage(t);
    twilio.respond = () => twilioError(500, 20500, 'Internal Server Error');
    let vonageId = '';
    vonage.respond = (request) => {
      const reply = vonageSent(request);
      vonageId = (reply.body as { messages: { 'message-id': string }[] }).messages[0]!['message-id'];
      return reply;
    };
    const target = await build(t, {
      env: { DATABASE_URL: url, ...twilioEnv('primary', twilio.url), ...vonageEnv('fallback', vonage.url) },
    });

    const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
    t.equal(started.statusCode, 201, started.body);
    t.equal(twilio.requests.length, 1, 'the primary was tried');
    t.equal(vonage.requests.length, 1, 'the fallback sent');
    const text = String(vonage.json(vonage.requests[0]!).text);
    const session = started.json();

    const view = (await target.app.inject(`/v1/verifications/${session.id}`)).json();
    t.equal(view.status, 'pending');
    t.equal(view.delivery_status, 'sent');
    t.match(view.send_attempts, [
      { backend: 'twilio', status: 'failed', provider_message_id: null, error_code: '20500' },
      { backend: 'vonage', status: 'sent', provider_message_id: vonageId, error_code: null },
    ]);
    t.equal(view.send_attempts.length, 2);

    const failovers = target.logs.entries.filter(
      (entry) => entry.msg === 'SMS backend failed to send; sending through the fallback backend',
    );
    t.equal(failovers.length, 1, 'one log line per failover');
    t.match(failovers[0], { level: 40, backend: 'twilio', fallback: 'vonage', verification_id: session.id });
    t.notOk(target.logs.text.includes(codeIn(text)), 'the code is not logged');
    t.notOk(target.logs.text.includes(VONAGE_SECRET), 'no secret is logged');

    t.equal(
      await metric(target, /^phone_verify_sms_failovers_total\{backend="twilio",fallback="vonage"\}/),
      1,
    );
    t.equal(
      await metric(
        target,
        /^phone_verify_sms_send_duration_seconds_count\{backend="twilio",result="error"\}/,
      ),
      1,
    );
    t.equal(
      await metric(target, /^phone_verify_sms_send_duration_seconds_count\{backend="vonage",result="ok"\}/),
      1,
    );

    const verified = await postJson(target.app, '/v1/verifications/verify', {
      phone_number: PHONE,
      security_code: codeIn(text),
      session_token: session.session_token,
    });
    t.equal(verified.statusCode, 200, verified.body);

    // The primary has recovered: the next start goes through it, not through the fallback.
    twilio.respond = (request) => twilioMessage(request);
    const again = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
    t.equal(again.statusCode, 201);
    t.equal(twilio.requests.length, 2, 'every start begins with the primary');
    t.equal(vonage.requests.length, 1, 'no sticky switch to the fallback');
    const second = (await target.app.inject(`/v1/verifications/${again.json().id}`)).json();
    t.match(second.send_attempts, [
      { backend: 'twilio', status: 'sent', provider_message_id: /^SM[0-9a-f]{32}$/ },
    ]);
    t.equal(second.send_attempts.length, 1);
  });

  t.test(`${kind}: both fail: 502 backend_error, the session failed, both attempts kept`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const twilio = await startFakeTwilio(t);
    const vonage = await startFakeVonage(t);
    twilio.respond = () =>
      twilioError(400, 21211, "The 'To' number +14155550100 is not a valid phone number.");
    vonage.respond = () => vonageRefused('29', 'Non White-listed Destination');
    const target = await build(t, {
      env: { DATABASE_URL: url, ...twilioEnv('primary', twilio.url), ...vonageEnv('fallback', vonage.url) },
    });

    const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
    t.equal(started.statusCode, 502, started.body);
    t.equal(started.json().code, 'backend_error');
    t.equal(twilio.requests.length, 1);
    t.equal(vonage.requests.length, 1);
    const text = String(vonage.json(vonage.requests[0]!).text);

    // The 502 answers no id: the session is found in the database, by its number.
    const [row] = await runSql(url, 'SELECT id, status FROM verifications WHERE phone_number = $1', [PHONE]);
    t.equal(row!.status, 'failed');
    const view = (await target.app.inject(`/v1/verifications/${row!.id}`)).json();
    t.equal(view.status, 'failed');
    t.equal(view.delivery_status, 'failed');
    t.match(view.send_attempts, [
      { backend: 'twilio', status: 'failed', error_code: '21211' },
      { backend: 'vonage', status: 'failed', error_code: '29' },
    ]);
    const errors = target.logs.entries.filter(
      (entry) => entry.msg === 'SMS backend failed to send; verification marked failed',
    );
    t.equal(errors.length, 1);
    t.match(errors[0], { backend: 'vonage' });
    t.notOk(target.logs.text.includes(codeIn(text)), 'the code is not logged');
    t.equal(
      await metric(
        target,
        /^phone_verify_verifications_failed_total\{backend="vonage",reason="send_failed"\}/,
      ),
      1,
    );
  });
}

t.test('a primary that never answers is cut at its TIMEOUT and the fallback sends', async (t) => {
  const twilio = await startFakeTwilio(t);
  const vonage = await startFakeVonage(t);
  twilio.respond = () => 'hang';
  const target = await build(t, {
    env: { ...twilioEnv('primary', twilio.url, { TIMEOUT: '300' }), ...vonageEnv('fallback', vonage.url) },
  });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(started.statusCode, 201, started.body);
  t.equal(vonage.requests.length, 1);
  const view = (await target.app.inject(`/v1/verifications/${started.json().id}`)).json();
  t.match(view.send_attempts, [
    { backend: 'twilio', status: 'failed', error_code: 'ETIMEDOUT' },
    { backend: 'vonage', status: 'sent' },
  ]);
});

t.test('a plugin backend can be the fallback', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pv-fallback-plugin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    join(dir, 'relay.mjs'),
    `import { BaseBackend } from 'phone-verify';
export class RelayBackend extends BaseBackend {
  sendSms(number) { return { id: 'relay-' + this.options.tag + '-' + number }; }
}
`,
  );
  const twilio = await startFakeTwilio(t);
  twilio.respond = () => 'drop';
  const target = await build(t, {
    env: {
      ...twilioEnv('primary', twilio.url),
      PLUGINS_DIR: dir,
      PHONE_VERIFICATION_FALLBACK_BACKEND: 'relay.RelayBackend',
      PHONE_VERIFICATION_FALLBACK_OPTIONS: '{"TAG": "a"}',
    },
  });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(started.statusCode, 201, started.body);
  const view = (await target.app.inject(`/v1/verifications/${started.json().id}`)).json();
  t.match(view.send_attempts, [
    { backend: 'twilio', status: 'failed' },
    { backend: 'relay.RelayBackend', status: 'sent', provider_message_id: `relay-a-${PHONE}` },
  ]);
});

t.test("a bad fallback stops the start, naming the fallback's variable", async (t) => {
  await t.rejects(build(t, { env: { PHONE_VERIFICATION_FALLBACK_BACKEND: 'nosuchbackend' } }), {
    message: /^PHONE_VERIFICATION_FALLBACK_BACKEND: unknown backend "nosuchbackend"/,
  });
  await t.rejects(
    build(t, {
      env: {
        PHONE_VERIFICATION_FALLBACK_BACKEND: 'twilio',
        PHONE_VERIFICATION_FALLBACK_OPTIONS_SID: 'AC0123456789abcdef0123456789abcdef',
        PHONE_VERIFICATION_FALLBACK_OPTIONS_SECRET: 'x-secret-value',
      },
    }),
    { message: 'PHONE_VERIFICATION_FALLBACK_OPTIONS_FROM: required by the twilio backend' },
  );
});
