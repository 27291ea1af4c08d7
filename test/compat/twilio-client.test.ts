// The official twilio package against /v2: its Verify v2 client pointed at the app by an
// httpClient that rewrites Twilio's origin to the app's, through the whole life of a verification.
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import twilio from 'twilio';
import { build, DATABASES, databaseUrl } from '../helper.js';

const ACCOUNT = `AC${'a1'.repeat(16)}`;
const KEY = 'compat-test-key-0123456789abcdef';

class RewritingClient extends twilio.RequestClient {
  constructor(private readonly origin: string) {
    super();
  }
  override request<TData>(opts: Parameters<twilio.RequestClient['request']>[0]) {
    return super.request<TData>({
      ...opts,
      uri: opts.uri.replace(/^https:\/\/verify\.twilio\.com/, this.origin),
    } as never);
  }
}

async function clientFor(t: Test, databaseUrl: string) {
  const target = await build(t, { env: { API_KEYS: KEY, DATABASE_URL: databaseUrl } });
  await target.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = target.app.server.address() as AddressInfo;
  const client = twilio(ACCOUNT, KEY, { httpClient: new RewritingClient(`http://127.0.0.1:${port}`) });
  return { target, client, origin: `http://127.0.0.1:${port}` };
}

for (const kind of DATABASES) {
  t.test(`a verification through the twilio SDK, from service to resend, on ${kind}`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const { target, client, origin } = await clientFor(t, url);
    const service = await client.verify.v2.services.create({ friendlyName: 'Acme Shop', codeLength: 8 });
    t.match(service.sid, /^VA[0-9a-f]{32}$/);
    t.equal(service.accountSid, ACCOUNT);
    t.equal(service.friendlyName, 'Acme Shop');
    t.equal(service.codeLength, 8);
    t.equal(service.url, `${origin}/v2/Services/${service.sid}`);

    const to = '+14155550100';
    const verification = await client.verify.v2
      .services(service.sid)
      .verifications.create({ to, channel: 'sms', amount: '€39.99', payee: 'Acme Shop' });
    t.match(verification.sid, /^VE[0-9a-f]{32}$/);
    t.equal(verification.amount, '€39.99', 'PSD2 amount echoed');
    t.equal(verification.payee, 'Acme Shop', 'PSD2 payee echoed');
    t.equal(verification.status, 'pending');
    t.equal(verification.valid, false);
    t.equal(verification.to, to);
    t.equal(verification.sendCodeAttempts.length, 1);
    const code = target.lastCode(to);
    t.equal(code.length, 8, 'the service code length');
    t.match(
      target.app.backend instanceof Object &&
        (target.app.backend as unknown as { sent: { message: string }[] }).sent.at(-1)?.message,
      /Acme Shop/,
    );

    const wrong = await client.verify.v2
      .services(service.sid)
      .verificationChecks.create({ to, code: code === '00000000' ? '11111111' : '00000000' });
    t.equal(wrong.status, 'pending');
    t.equal(wrong.valid, false);

    const right = await client.verify.v2.services(service.sid).verificationChecks.create({ to, code });
    t.equal(right.status, 'approved');
    t.equal(right.valid, true);
    t.equal(right.sid, verification.sid);
    t.equal(right.amount, '€39.99', "a check echoes the start's amount");
    t.equal(right.payee, 'Acme Shop');

    await t.rejects(client.verify.v2.services(service.sid).verificationChecks.create({ to, code }), {
      status: 404,
      code: 20404,
    });

    const fetched = await client.verify.v2.services(service.sid).verifications(verification.sid).fetch();
    t.equal(fetched.status, 'approved');
    t.equal(fetched.valid, true);
    t.equal(fetched.amount, '€39.99', 'kept: a fetch echoes it too');
    t.equal(fetched.payee, 'Acme Shop');
    t.match(fetched.dateCreated, Date);

    // cancel
    const second = await client.verify.v2.services(service.sid).verifications.create({ to, channel: 'sms' });
    t.not(second.sid, verification.sid);
    const canceled = await client.verify.v2
      .services(service.sid)
      .verifications(second.sid)
      .update({ status: 'canceled' });
    t.equal(canceled.status, 'canceled');
    await t.rejects(
      client.verify.v2.services(service.sid).verificationChecks.create({ to, code: target.lastCode(to) }),
      { status: 404, code: 20404 },
    );

    // max check attempts
    const other = '+14155550101';
    await client.verify.v2.services(service.sid).verifications.create({ to: other, channel: 'sms' });
    const otherCode = target.lastCode(other);
    const bad = otherCode === '00000000' ? '11111111' : '00000000';
    for (let i = 0; i < 5; i++) {
      const check = await client.verify.v2
        .services(service.sid)
        .verificationChecks.create({ to: other, code: bad });
      t.equal(check.valid, false);
    }
    await t.rejects(
      client.verify.v2.services(service.sid).verificationChecks.create({ to: other, code: otherCode }),
      {
        status: 429,
        code: 60202,
      },
    );

    // resend on the same SID with a new code
    const third = '+14155550102';
    const first = await client.verify.v2
      .services(service.sid)
      .verifications.create({ to: third, channel: 'sms' });
    const firstCode = target.lastCode(third);
    const again = await client.verify.v2
      .services(service.sid)
      .verifications.create({ to: third, channel: 'sms' });
    t.equal(again.sid, first.sid, 'same VE SID');
    t.equal(again.sendCodeAttempts.length, 2);
    const newCode = target.lastCode(third);
    if (newCode !== firstCode) {
      const old = await client.verify.v2
        .services(service.sid)
        .verificationChecks.create({ to: third, code: firstCode });
      t.equal(old.valid, false, 'the earlier code stopped working');
    }
    const byId = await client.verify.v2
      .services(service.sid)
      .verificationChecks.create({ verificationSid: first.sid, code: newCode });
    t.equal(byId.status, 'approved');

    // too many sends
    const fourth = '+14155550103';
    for (let i = 0; i < 5; i++) {
      await client.verify.v2.services(service.sid).verifications.create({ to: fourth, channel: 'sms' });
    }
    await t.rejects(
      client.verify.v2.services(service.sid).verifications.create({ to: fourth, channel: 'sms' }),
      {
        status: 429,
        code: 60203,
      },
    );

    // other service's verification: 404
    const otherService = await client.verify.v2.services.create({ friendlyName: 'Other' });
    await t.rejects(client.verify.v2.services(otherService.sid).verifications(verification.sid).fetch(), {
      status: 404,
      code: 20404,
    });

    const listed = await client.verify.v2.services.list();
    t.same(listed.map((s) => s.sid).sort(), [service.sid, otherService.sid].sort());
    const updated = await client.verify.v2.services(otherService.sid).update({ friendlyName: 'Renamed' });
    t.equal(updated.friendlyName, 'Renamed');
    t.equal(await client.verify.v2.services(otherService.sid).remove(), true);
    await t.rejects(client.verify.v2.services(otherService.sid).fetch(), { status: 404, code: 20404 });
  });

  t.test(`wrong credentials are 401 20003; channel errors are 60223 and 60200, on ${kind}`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const { target, origin } = await clientFor(t, url);
    const bad = twilio(ACCOUNT, 'not-the-key', { httpClient: new RewritingClient(origin) });
    await t.rejects(bad.verify.v2.services.list(), { status: 401, code: 20003 });
    const auth = `Basic ${Buffer.from(`${ACCOUNT}:${KEY}`).toString('base64')}`;
    const created = await target.app.inject({
      method: 'POST',
      url: '/v2/Services',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'FriendlyName=Raw',
    });
    t.equal(created.statusCode, 201);
    const sid = created.json().sid;
    t.match(created.json().date_created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const post = (payload: string) =>
      target.app.inject({
        method: 'POST',
        url: `/v2/Services/${sid}/Verifications`,
        headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
        payload,
      });
    const call = await post('To=%2B14155550100&Channel=call');
    t.equal(call.statusCode, 400);
    t.same(call.json(), {
      code: 60223,
      message: "Delivery channel disabled: 'CALL'",
      more_info: 'https://www.twilio.com/docs/errors/60223',
      status: 400,
    });
    const unknown = await post('To=%2B14155550100&Channel=pigeon');
    t.same(unknown.json(), {
      code: 60200,
      message: 'Invalid parameter: Channel',
      more_info: 'https://www.twilio.com/docs/errors/60200',
      status: 400,
    });
    const noTo = await post('Channel=sms');
    t.equal(noTo.json().message, 'Invalid parameter: To');
    const ok = await post('To=%2B14155550100&Channel=sms&Amount=10&Payee=Acme');
    t.equal(ok.statusCode, 201);
    t.equal(ok.json().amount, '10');
    t.equal(ok.json().payee, 'Acme');
    t.equal(ok.json().service_sid, sid);

    // PSD2: Amount and Payee are kept with the verification and echoed on every answer.
    const verificationSid = ok.json().sid;
    const fetch = () =>
      target.app.inject({
        method: 'GET',
        url: `/v2/Services/${sid}/Verifications/${verificationSid}`,
        headers: { authorization: auth },
      });
    t.match((await fetch()).json(), { amount: '10', payee: 'Acme' }, 'a fetch echoes what the start carried');
    t.same(
      (await fetch()).json(),
      ok.json(),
      "a new verification's answer is what a fetch reads back, field for field",
    );
    const resent = await post('To=%2B14155550100&Channel=sms');
    t.equal(resent.json().sid, verificationSid, 're-sent on the same SID');
    t.match(resent.json(), { amount: '10', payee: 'Acme' }, 'a re-send without them keeps them');
    const replaced = await post('To=%2B14155550100&Channel=sms&Amount=12.50&Payee=Acme%20Ltd');
    t.match(replaced.json(), { amount: '12.50', payee: 'Acme Ltd' }, 'a re-send with them replaces them');
    t.match((await fetch()).json(), { amount: '12.50', payee: 'Acme Ltd' });
    const check = await target.app.inject({
      method: 'POST',
      url: `/v2/Services/${sid}/VerificationCheck`,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `VerificationSid=${verificationSid}&Code=${target.lastCode('+14155550100') === '000000' ? '111111' : '000000'}`,
    });
    t.match(check.json(), { status: 'pending', amount: '12.50', payee: 'Acme Ltd' }, 'a check echoes them');
    const canceled = await target.app.inject({
      method: 'POST',
      url: `/v2/Services/${sid}/Verifications/${verificationSid}`,
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'Status=canceled',
    });
    t.match(canceled.json(), { status: 'canceled', amount: '12.50', payee: 'Acme Ltd' });
    const plain = await post('To=%2B14155550199&Channel=sms');
    t.match(plain.json(), { amount: null, payee: null }, 'none given: null');
  });
}
