// django-phone-verify's request shapes against /api/phone: every outcome in its bodies and error
// strings, in JSON, form and multipart bodies, with and without the trailing slash.
import t from 'tap';
import { build, DATABASES, databaseUrl, expire } from '../helper.js';

const PHONE = '+14155550100';

function multipart(fields: Record<string, string>): { payload: string; contentType: string } {
  const boundary = '----pvtestboundary';
  const parts = Object.entries(fields).map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return {
    payload: `${parts.join('')}--${boundary}--\r\n`,
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

const encodings = {
  json: (fields: Record<string, string>) => ({
    payload: JSON.stringify(fields),
    contentType: 'application/json',
  }),
  form: (fields: Record<string, string>) => ({
    payload: new URLSearchParams(fields).toString(),
    contentType: 'application/x-www-form-urlencoded',
  }),
  multipart,
};

for (const kind of DATABASES) {
  for (const [encoding, encode] of Object.entries(encodings)) {
    t.test(`register and verify with a ${encoding} body, on ${kind}`, async (t) => {
      const url = await databaseUrl(t, kind);
      if (!url) return;
      const target = await build(t, { env: { DATABASE_URL: url } });
      const post = (url: string, fields: Record<string, string>) => {
        const { payload, contentType } = encode(fields);
        return target.app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
      };
      const registered = await post('/api/phone/register', { phone_number: PHONE });
      t.equal(registered.statusCode, 200);
      const { session_token } = registered.json();
      t.same(Object.keys(registered.json()), ['session_token']);
      const code = target.lastCode(PHONE);
      const wrongCode = code === '000000' ? '111111' : '000000';

      const wrong = await post('/api/phone/verify/', {
        phone_number: PHONE,
        session_token,
        security_code: wrongCode,
      });
      t.equal(wrong.statusCode, 400);
      t.same(wrong.json(), { non_field_errors: ['Security code is not valid'] });

      const unknown = await post('/api/phone/verify', {
        phone_number: PHONE,
        session_token: 'nope',
        security_code: code,
      });
      t.same(unknown.json(), { non_field_errors: ['Security code is not valid'] });

      const right = await post('/api/phone/verify', {
        phone_number: PHONE,
        session_token,
        security_code: code,
      });
      t.equal(right.statusCode, 200);
      t.same(right.json(), { message: 'Security code is valid.' });

      const again = await post('/api/phone/verify/', {
        phone_number: PHONE,
        session_token,
        security_code: code,
      });
      t.equal(again.statusCode, 400);
      t.same(again.json(), { non_field_errors: ['Security code is already verified'] });

      const missing = await post('/api/phone/register/', {});
      t.equal(missing.statusCode, 400);
      t.same(missing.json(), { phone_number: ['This field is required.'] });
      const invalid = await post('/api/phone/register', { phone_number: '12' });
      t.same(invalid.json(), { phone_number: ['Enter a valid phone number.'] });
      const empty = await post('/api/phone/verify', { phone_number: PHONE });
      t.same(empty.json(), {
        session_token: ['This field is required.'],
        security_code: ['This field is required.'],
      });
    });
  }

  t.test(`expired and locked sessions answer django-phone-verify strings, on ${kind}`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const target = await build(t, { env: { DATABASE_URL: url } });
    const post = (url: string, body: unknown) =>
      target.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(body),
      });
    const { session_token } = (await post('/api/phone/register', { phone_number: PHONE })).json();
    const code = target.lastCode(PHONE);
    const rows = await import('../helper.js').then(({ runSql }) =>
      runSql(target.config.databaseUrl, 'SELECT id FROM verifications ORDER BY created_at DESC LIMIT 1'),
    );
    await expire(target.config.databaseUrl, String(rows[0]!.id));
    const expired = await post('/api/phone/verify', {
      phone_number: PHONE,
      session_token,
      security_code: code,
    });
    t.same(expired.json(), { non_field_errors: ['Security code has expired'] });

    const second = (await post('/api/phone/register', { phone_number: PHONE })).json();
    const secondCode = target.lastCode(PHONE);
    const wrongCode = secondCode === '000000' ? '111111' : '000000';
    for (let i = 0; i < 5; i++) {
      await post('/api/phone/verify', {
        phone_number: PHONE,
        session_token: second.session_token,
        security_code: wrongCode,
      });
    }
    const locked = await post('/api/phone/verify', {
      phone_number: PHONE,
      session_token: second.session_token,
      security_code: secondCode,
    });
    t.equal(locked.statusCode, 400);
    t.same(locked.json(), {
      non_field_errors: ['Too many failed verification attempts. Please request a new code.'],
    });
  });

  t.test(`API_KEYS guards /api/phone as it guards /v1, on ${kind}`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const target = await build(t, { env: { API_KEYS: 'django-test-key-0123456789', DATABASE_URL: url } });
    const open = await target.app.inject({
      method: 'POST',
      url: '/api/phone/register',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ phone_number: PHONE }),
    });
    t.equal(open.statusCode, 401);
    const keyed = await target.app.inject({
      method: 'POST',
      url: '/api/phone/register',
      headers: { 'content-type': 'application/json', authorization: 'Bearer django-test-key-0123456789' },
      payload: JSON.stringify({ phone_number: PHONE }),
    });
    t.equal(keyed.statusCode, 200);
  });
}
