// The built-in webhook backend against a receiver in the test that verifies the signature the way
// docs/delivery.md tells operators to: HMAC-SHA-256 of "<t>.<raw body>" keyed by SECRET, compared
// in constant time. A 2xx answer is sent (its JSON id kept); a 500, a hang or a redirect is failed.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { type RecordedRequest, startRecordingServer } from '../fakes/recording-server.js';
import { build, postJson } from '../helper.js';
import { ensureBuilt, startRefused } from '../service-process.js';
import { WEBHOOK_SECRET, webhookEnv } from './providers.js';

const PHONE = '+14155550100';

/** The receiver's check, as an operator would write it: true only for a genuine, fresh request. */
function verifiedBy(secret: string, request: RecordedRequest, nowSeconds: number): boolean {
  const header = String(request.headers['x-phone-verify-signature'] ?? '');
  const parts = Object.fromEntries(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const timestamp = Number(parts.t);
  if (!Number.isInteger(timestamp) || Math.abs(nowSeconds - timestamp) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${parts.t}.${request.body}`).digest();
  const given = Buffer.from(String(parts.v1 ?? ''), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

t.test('a signed JSON POST; a 2xx answer is sent and its id kept', async (t) => {
  const receiver = await startRecordingServer(t, (request) =>
    verifiedBy(WEBHOOK_SECRET, request, Math.floor(Date.now() / 1000))
      ? { status: 202, body: { id: 'gw-4711' } }
      : { status: 401, body: { error: 'bad signature' } },
  );
  const target = await build(t, { env: webhookEnv('primary', `${receiver.url}/sms?via=pv`) });

  const started = await postJson(target.app, '/v1/verifications', { phone_number: '+1 (415) 555-0100' });
  t.equal(started.statusCode, 201, started.body);
  t.equal(receiver.requests.length, 1);
  const [request] = receiver.requests;
  t.equal(request!.method, 'POST');
  t.equal(request!.path, '/sms?via=pv', 'the URL as configured');
  t.match(request!.headers['content-type'], /^application\/json/);
  t.match(String(request!.headers['x-phone-verify-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);
  const body = JSON.parse(request!.body);
  t.same(Object.keys(body), ['to', 'message']);
  t.equal(body.to, PHONE);
  const code = /security code (\d+)/.exec(body.message)![1]!;

  t.ok(verifiedBy(WEBHOOK_SECRET, request!, Math.floor(Date.now() / 1000)), 'the receiver verifies it');
  t.notOk(verifiedBy('another-secret', request!, Math.floor(Date.now() / 1000)), 'another key does not');
  t.notOk(
    verifiedBy(
      WEBHOOK_SECRET,
      { ...request!, body: request!.body.replace(code, '000000') },
      Date.now() / 1000,
    ),
    'a changed body does not',
  );

  const view = (await target.app.inject(`/v1/verifications/${started.json().id}`)).json();
  t.equal(view.delivery_status, 'sent');
  t.match(view.send_attempts, [{ backend: 'webhook', status: 'sent', provider_message_id: 'gw-4711' }]);
  t.notOk(target.logs.text.includes(WEBHOOK_SECRET), 'the secret is not logged');
  t.notOk(target.logs.text.includes(code), 'the code is not logged');

  const verified = await postJson(target.app, '/v1/verifications/verify', {
    phone_number: PHONE,
    security_code: code,
    session_token: started.json().session_token,
  });
  t.equal(verified.statusCode, 200, verified.body);
});

t.test('a receiver answering 500 is a failed send: 502, session failed', async (t) => {
  const receiver = await startRecordingServer(t, () => ({ status: 500, body: 'gateway down' }));
  const target = await build(t, { env: webhookEnv('primary', receiver.url) });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(started.statusCode, 502, started.body);
  t.equal(started.json().code, 'backend_error');
  t.equal(receiver.requests.length, 1, 'no retry of its own');
  const line = target.logs.entries.find(
    (entry) => entry.msg === 'SMS backend failed to send; verification marked failed',
  );
  t.match(line, { backend: 'webhook', err: { code: 'HTTP_500', status: 500 } });
});

t.test('a 2xx without an id is sent, with no provider message id', async (t) => {
  const receiver = await startRecordingServer(t, () => ({ status: 204 }));
  const target = await build(t, { env: webhookEnv('primary', receiver.url) });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(started.statusCode, 201, started.body);
  const view = (await target.app.inject(`/v1/verifications/${started.json().id}`)).json();
  t.match(view.send_attempts, [{ backend: 'webhook', status: 'sent', provider_message_id: null }]);
});

t.test('no answer within TIMEOUT, or a redirect, is a failed send', async (t) => {
  const hanging = await startRecordingServer(t, () => 'hang');
  const slow = await build(t, { env: webhookEnv('primary', hanging.url, { TIMEOUT: '200' }) });
  const timedOut = await postJson(slow.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(timedOut.statusCode, 502);
  t.match(
    slow.logs.entries.find((entry) => entry.msg === 'SMS backend failed to send; verification marked failed'),
    { err: { code: 'ETIMEDOUT' } },
  );

  const elsewhere = await startRecordingServer(t, () => ({ status: 200, body: { id: 'not-me' } }));
  const redirecting = createServer((_request, response) => {
    response.writeHead(307, { location: `${elsewhere.url}/` }).end();
  });
  await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => redirecting.close(() => resolve())));
  const { port } = redirecting.address() as AddressInfo;
  const target = await build(t, { env: webhookEnv('primary', `http://127.0.0.1:${port}/`) });
  const redirected = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(redirected.statusCode, 502);
  t.equal(elsewhere.requests.length, 0, 'the message was not posted elsewhere');
});

t.test('as the fallback of a failing primary', async (t) => {
  const failing = await startRecordingServer(t, () => ({ status: 503 }));
  const receiver = await startRecordingServer(t, () => ({ status: 200, body: { id: 42 } }));
  const target = await build(t, {
    env: {
      ...webhookEnv('primary', failing.url),
      ...webhookEnv('fallback', receiver.url),
      PHONE_VERIFICATION_FALLBACK_OPTIONS_SECRET: 'the-fallback-receivers-own-secret',
    },
  });
  const started = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
  t.equal(started.statusCode, 201, started.body);
  t.ok(verifiedBy('the-fallback-receivers-own-secret', receiver.requests[0]!, Math.floor(Date.now() / 1000)));
  const view = (await target.app.inject(`/v1/verifications/${started.json().id}`)).json();
  t.match(view.send_attempts, [
    { backend: 'webhook', status: 'failed', error_code: 'HTTP_503' },
    { backend: 'webhook', status: 'sent', provider_message_id: '42' },
  ]);
});

t.test('missing URL or SECRET stops the service with one line naming the variable', async (t) => {
  ensureBuilt();
  const noUrl = await startRefused(t, {
    PHONE_VERIFICATION_BACKEND: 'webhook',
    PHONE_VERIFICATION_OPTIONS_SECRET: WEBHOOK_SECRET,
  });
  t.equal(noUrl.code, 1);
  t.equal(noUrl.stderr, 'phone-verify: PHONE_VERIFICATION_OPTIONS_URL: required by the webhook backend\n');
  const noSecret = await startRefused(t, {
    PHONE_VERIFICATION_BACKEND: 'webhook',
    PHONE_VERIFICATION_OPTIONS_URL: 'https://gateway.example/sms',
  });
  t.equal(noSecret.code, 1);
  t.equal(
    noSecret.stderr,
    'phone-verify: PHONE_VERIFICATION_OPTIONS_SECRET: required by the webhook backend\n',
  );
  const badUrl = await startRefused(t, {
    PHONE_VERIFICATION_FALLBACK_BACKEND: 'webhook',
    PHONE_VERIFICATION_FALLBACK_OPTIONS_URL: 'gateway.example/sms',
    PHONE_VERIFICATION_FALLBACK_OPTIONS_SECRET: WEBHOOK_SECRET,
  });
  t.equal(badUrl.code, 1);
  t.equal(
    badUrl.stderr,
    'phone-verify: PHONE_VERIFICATION_FALLBACK_OPTIONS_URL: expected an http(s) URL for the webhook backend\n',
  );
  t.notOk(`${noUrl.stderr}${badUrl.stderr}`.includes(WEBHOOK_SECRET));
});
