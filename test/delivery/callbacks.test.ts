// Delivery receipts end to end: the real twilio and @vonage/server-sdk backends send through local
// fakes asking for receipts at PUBLIC_URL; the test then posts receipts as the providers would,
// signed with the twilio package's own getExpectedTwilioSignature and with Vonage's documented
// signing (sorted "&key=value" pairs, HMAC or MD5 hash with the signature secret), and forged.
import { createHash, createHmac } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import t, { type Test } from 'tap';
import twilio from 'twilio';
import { startFakeTwilio, twilioMessage } from '../fakes/twilio.js';
import { startFakeVonage, vonageSent } from '../fakes/vonage.js';
import { build, DATABASES, databaseUrl, postJson, type TestApp } from '../helper.js';
import { TWILIO_SECRET, TWILIO_SID, twilioEnv, VONAGE_SIGNATURE_SECRET, vonageEnv } from './providers.js';

const PUBLIC_URL = 'https://verify.example.com/pv';
const TWILIO_CALLBACK = `${PUBLIC_URL}/v1/callbacks/twilio`;
const PHONE = '+14155550100';

/** A Twilio status callback as Twilio posts it (form fields), with its X-Twilio-Signature. */
function twilioCallback(
  app: FastifyInstance,
  fields: Record<string, string>,
  options: { secret?: string; signature?: string | null; signedFields?: Record<string, string> } = {},
) {
  const params = {
    AccountSid: TWILIO_SID,
    ApiVersion: '2010-04-01',
    From: '+15005550006',
    To: PHONE,
    ...fields,
  };
  const signature =
    options.signature === undefined
      ? twilio.getExpectedTwilioSignature(
          options.secret ?? TWILIO_SECRET,
          TWILIO_CALLBACK,
          options.signedFields ?? params,
        )
      : options.signature;
  return app.inject({
    method: 'POST',
    url: '/v1/callbacks/twilio',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signature === null ? {} : { 'x-twilio-signature': signature }),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

async function view(target: TestApp, id: string, apiKey?: string) {
  const reply = await target.app.inject({
    url: `/v1/verifications/${id}`,
    headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {},
  });
  return reply.json();
}

async function metric(target: TestApp, line: RegExp): Promise<number | undefined> {
  const body = (await target.app.inject('/metrics')).body;
  const match = body.split('\n').find((row) => line.test(row));
  return match === undefined ? undefined : Number(match.split(' ').at(-1));
}

/** Starts a Twilio-backed app with PUBLIC_URL (and API keys: callbacks need none). */
async function twilioApp(t: Test, url?: string, extra: Record<string, string> = {}) {
  const fake = await startFakeTwilio(t);
  const sids: string[] = [];
  fake.respond = (request) => {
    const reply = twilioMessage(request);
    sids.push((reply.body as { sid: string }).sid);
    return reply;
  };
  const target = await build(t, {
    env: {
      ...(url ? { DATABASE_URL: url } : {}),
      ...twilioEnv('primary', fake.url),
      PUBLIC_URL,
      API_KEYS: 'operator-key',
      ...extra,
    },
  });
  const start = async () => {
    const reply = await postJson(
      target.app,
      '/v1/verifications',
      { phone_number: PHONE },
      {
        authorization: 'Bearer operator-key',
      },
    );
    if (reply.statusCode !== 201) throw new Error(reply.body);
    return { id: reply.json().id as string, sid: sids.at(-1)! };
  };
  return { fake, target, start };
}

for (const kind of DATABASES) {
  t.test(`${kind}: a signed Twilio status callback updates the send`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const { fake, target, start } = await twilioApp(t, url);
    const first = await start();
    t.equal(fake.form(fake.requests[0]!).StatusCallback, TWILIO_CALLBACK, 'Twilio is asked for callbacks');

    const before = await view(target, first.id, 'operator-key');
    t.equal(before.delivery_status, 'sent');

    const sent = await twilioCallback(target.app, { MessageSid: first.sid, MessageStatus: 'sent' });
    t.equal(sent.statusCode, 200, sent.body);
    t.same(sent.json(), { outcome: 'ignored' }, 'a status that is not final changes nothing');

    const delivered = await twilioCallback(target.app, { MessageSid: first.sid, MessageStatus: 'delivered' });
    t.equal(delivered.statusCode, 200, delivered.body);
    t.same(delivered.json(), { outcome: 'recorded' });
    const after = await view(target, first.id, 'operator-key');
    t.equal(after.delivery_status, 'delivered');
    t.match(after.send_attempts, [
      { backend: 'twilio', status: 'delivered', provider_message_id: first.sid },
    ]);
    t.ok(after.send_attempts[0].updated_at >= after.send_attempts[0].created_at);

    const retried = await twilioCallback(target.app, { MessageSid: first.sid, MessageStatus: 'delivered' });
    t.same(retried.json(), { outcome: 'ignored' }, "Twilio's retry is answered and counted once");
    t.equal(await metric(target, /^phone_verify_deliveries_total\{backend="twilio",status="delivered"\}/), 1);

    const second = await start();
    const undelivered = await twilioCallback(target.app, {
      MessageSid: second.sid,
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    });
    t.same(undelivered.json(), { outcome: 'recorded' });
    const failed = await view(target, second.id, 'operator-key');
    t.equal(failed.delivery_status, 'undelivered');
    t.match(failed.send_attempts, [{ status: 'undelivered', error_code: '30003' }]);
    t.equal(
      await metric(target, /^phone_verify_deliveries_total\{backend="twilio",status="undelivered"\}/),
      1,
    );
  });

  t.test(
    `${kind}: concurrent copies of one receipt: one records it, the metric counts it once`,
    async (t) => {
      const url = await databaseUrl(t, kind);
      if (!url) return;
      const { target, start } = await twilioApp(t, url);
      const { id, sid } = await start();
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          twilioCallback(target.app, {
            MessageSid: sid,
            MessageStatus: i % 2 ? 'delivered' : 'undelivered',
            ...(i % 2 ? {} : { ErrorCode: '30003' }),
          }),
        ),
      );
      t.same(
        replies.map((reply) => reply.statusCode),
        Array(12).fill(200),
      );
      const outcomes = replies.map((reply) => reply.json().outcome);
      t.equal(outcomes.filter((outcome) => outcome === 'recorded').length, 1, 'exactly one recorded');
      const delivered =
        (await metric(target, /^phone_verify_deliveries_total\{backend="twilio",status="delivered"\}/)) ?? 0;
      const undelivered =
        (await metric(target, /^phone_verify_deliveries_total\{backend="twilio",status="undelivered"\}/)) ??
        0;
      t.equal(delivered + undelivered, 1, 'counted once');
      const shown = await view(target, id, 'operator-key');
      t.equal(
        shown.delivery_status,
        delivered === 1 ? 'delivered' : 'undelivered',
        'the status the recorded one set',
      );
    },
  );
}

t.test('forged, tampered and unsigned Twilio callbacks are 403 and change nothing', async (t) => {
  const { target, start } = await twilioApp(t);
  const { id, sid } = await start();
  const fields = { MessageSid: sid, MessageStatus: 'failed', ErrorCode: '30008' };

  const forged = await twilioCallback(target.app, fields, { secret: 'not-the-auth-token' });
  t.equal(forged.statusCode, 403);
  t.equal(forged.json().code, 'invalid_signature');
  t.match(forged.headers['content-type'], /^application\/problem\+json/);

  const unsigned = await twilioCallback(target.app, fields, { signature: null });
  t.equal(unsigned.statusCode, 403);
  const garbage = await twilioCallback(target.app, fields, { signature: 'bm90IGEgc2lnbmF0dXJl' });
  t.equal(garbage.statusCode, 403);
  const tampered = await twilioCallback(target.app, fields, {
    signedFields: {
      AccountSid: TWILIO_SID,
      ApiVersion: '2010-04-01',
      From: '+15005550006',
      To: PHONE,
      MessageSid: sid,
      MessageStatus: 'delivered',
    },
  });
  t.equal(tampered.statusCode, 403, 'signed for other fields');

  const unchanged = await view(target, id, 'operator-key');
  t.equal(unchanged.delivery_status, 'sent');
  t.match(unchanged.send_attempts, [{ status: 'sent', error_code: null }]);
  t.equal(await metric(target, /^phone_verify_deliveries_total\{backend="twilio",status="failed"\}/), 0);

  const genuine = await twilioCallback(target.app, fields);
  t.same(genuine.json(), { outcome: 'recorded' }, 'the same callback, signed, is taken');
  t.match((await view(target, id, 'operator-key')).send_attempts, [
    { status: 'failed', error_code: '30008' },
  ]);
});

t.test('a signed callback for an unknown message is 200 and ignored', async (t) => {
  const { target } = await twilioApp(t);
  const unknown = await twilioCallback(target.app, {
    MessageSid: `SM${'0'.repeat(32)}`,
    MessageStatus: 'delivered',
  });
  t.equal(unknown.statusCode, 200);
  t.same(unknown.json(), { outcome: 'ignored' });
});

t.test('without PUBLIC_URL no callback is asked for and none is accepted', async (t) => {
  const { fake, target, start } = await twilioApp(t, undefined, { PUBLIC_URL: '' });
  const { id, sid } = await start();
  t.notOk('StatusCallback' in fake.form(fake.requests[0]!));
  const reply = await twilioCallback(target.app, { MessageSid: sid, MessageStatus: 'delivered' });
  t.equal(reply.statusCode, 403, 'the signed URL cannot be known');
  t.equal((await view(target, id, 'operator-key')).delivery_status, 'sent');
});

// Vonage's documented signing: every parameter but sig, sorted by key, as "&key=value" with & and =
// in values replaced by _; then HMAC with the signature secret, or MD5 of the string + secret.
function vonageSig(
  params: Record<string, string>,
  method: 'md5hash' | 'sha256',
  secret = VONAGE_SIGNATURE_SECRET,
) {
  const signed = Object.keys(params)
    .filter((key) => key !== 'sig')
    .sort()
    .map((key) => `&${key}=${params[key]!.replace(/[&=]/g, '_')}`)
    .join('');
  return method === 'md5hash'
    ? createHash('md5')
        .update(signed + secret)
        .digest('hex')
    : createHmac('sha256', secret).update(signed).digest('hex');
}

function dlr(messageId: string, status: string, errCode = '0'): Record<string, string> {
  return {
    msisdn: PHONE.slice(1),
    to: 'PhoneVerify',
    'network-code': '310260',
    messageId,
    price: '0.00570000',
    status,
    scts: '2612031200',
    'err-code': errCode,
    'api-key': 'vonagekey1',
    'message-timestamp': '2026-12-03 12:00:00',
    timestamp: String(Math.floor(Date.now() / 1000)),
    nonce: 'a2b5f6c0-7d5e-4a3f-9a3c-1f2e3d4c5b6a',
  };
}

async function vonageApp(t: Test, options: Record<string, string>) {
  const fake = await startFakeVonage(t);
  const ids: string[] = [];
  fake.respond = (request) => {
    const reply = vonageSent(request);
    ids.push((reply.body as { messages: { 'message-id': string }[] }).messages[0]!['message-id']);
    return reply;
  };
  const target = await build(t, { env: { ...vonageEnv('primary', fake.url, options), PUBLIC_URL } });
  const start = async () => {
    const reply = await postJson(target.app, '/v1/verifications', { phone_number: PHONE });
    if (reply.statusCode !== 201) throw new Error(reply.body);
    return { id: reply.json().id as string, messageId: ids.at(-1)! };
  };
  return { fake, target, start };
}

t.test('Vonage DLRs signed with SHA-256 HMAC: GET and POST JSON accepted, forged ones 403', async (t) => {
  const { fake, target, start } = await vonageApp(t, {
    SIGNATURE_SECRET: VONAGE_SIGNATURE_SECRET,
    SIGNATURE_METHOD: 'sha256',
  });
  const first = await start();
  t.equal(
    fake.json(fake.requests[0]!).callback,
    `${PUBLIC_URL}/v1/callbacks/vonage`,
    'Vonage is asked for DLRs',
  );

  const params = dlr(first.messageId, 'delivered');
  const forged = { ...params, sig: vonageSig(params, 'sha256', 'wrong-secret') };
  const refused = await target.app.inject({ url: `/v1/callbacks/vonage?${new URLSearchParams(forged)}` });
  t.equal(refused.statusCode, 403);
  t.equal(refused.json().code, 'invalid_signature');
  const unsigned = await target.app.inject({ url: `/v1/callbacks/vonage?${new URLSearchParams(params)}` });
  t.equal(unsigned.statusCode, 403);
  const tampered = { ...params, status: 'failed', sig: vonageSig(params, 'sha256') };
  t.equal(
    (await target.app.inject({ url: `/v1/callbacks/vonage?${new URLSearchParams(tampered)}` })).statusCode,
    403,
  );
  t.equal((await view(target, first.id)).delivery_status, 'sent', 'nothing changed');

  const signed = { ...params, sig: vonageSig(params, 'sha256') };
  const accepted = await target.app.inject({ url: `/v1/callbacks/vonage?${new URLSearchParams(signed)}` });
  t.equal(accepted.statusCode, 200, accepted.body);
  t.same(accepted.json(), { outcome: 'recorded' });
  t.equal((await view(target, first.id)).delivery_status, 'delivered');
  t.equal(await metric(target, /^phone_verify_deliveries_total\{backend="vonage",status="delivered"\}/), 1);

  const second = await start();
  const expired = dlr(second.messageId, 'expired', '27');
  const posted = await postJson(target.app, '/v1/callbacks/vonage', {
    ...expired,
    sig: vonageSig(expired, 'sha256'),
  });
  t.same(posted.json(), { outcome: 'recorded' });
  t.match((await view(target, second.id)).send_attempts, [
    { backend: 'vonage', status: 'undelivered', error_code: '27' },
  ]);

  const unknown = dlr('0B00000000000000', 'delivered');
  const ignored = await postJson(target.app, '/v1/callbacks/vonage', {
    ...unknown,
    sig: vonageSig(unknown, 'sha256'),
  });
  t.equal(ignored.statusCode, 200);
  t.same(ignored.json(), { outcome: 'ignored' });
});

t.test('Vonage DLRs with the default MD5 hash, posted as a form', async (t) => {
  const { target, start } = await vonageApp(t, { SIGNATURE_SECRET: VONAGE_SIGNATURE_SECRET });
  const { id, messageId } = await start();
  const params = dlr(messageId, 'rejected', '6');
  const reply = await target.app.inject({
    method: 'POST',
    url: '/v1/callbacks/vonage',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...params, sig: vonageSig(params, 'md5hash') }).toString(),
  });
  t.equal(reply.statusCode, 200, reply.body);
  t.match((await view(target, id)).send_attempts, [{ status: 'failed', error_code: '6' }]);
});

t.test('without a Vonage signature secret every DLR is 403', async (t) => {
  const { target, start } = await vonageApp(t, {});
  const { id, messageId } = await start();
  const params = dlr(messageId, 'delivered');
  const reply = await target.app.inject({
    url: `/v1/callbacks/vonage?${new URLSearchParams({ ...params, sig: vonageSig(params, 'md5hash', '') })}`,
  });
  t.equal(reply.statusCode, 403);
  t.equal((await view(target, id)).delivery_status, 'sent');
});

t.test('a bad SIGNATURE_METHOD stops the start, naming the variable', async (t) => {
  await t.rejects(
    build(t, {
      env: vonageEnv('primary', 'http://127.0.0.1:9', {
        SIGNATURE_SECRET: VONAGE_SIGNATURE_SECRET,
        SIGNATURE_METHOD: 'sha3',
      }),
    }),
    { message: /^PHONE_VERIFICATION_OPTIONS_SIGNATURE_METHOD: expected one of md5hash/ },
  );
});

t.test('a test number has no send attempts: delivery_status unknown', async (t) => {
  const target = await build(t, { env: { TEST_PHONE_NUMBERS: '+15555550100=123456' } });
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: '+15555550100' });
  t.equal(reply.statusCode, 201, reply.body);
  const shown = await view(target, reply.json().id);
  t.equal(shown.delivery_status, 'unknown');
  t.same(shown.send_attempts, []);
});
