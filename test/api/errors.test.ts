// Every error is application/problem+json with its stable code; bad input loses nothing.
import { randomBytes } from 'node:crypto';
import t, { type Test } from 'tap';
import { BaseBackend } from '../../src/backends/base.js';
import { builtInBackends } from '../../src/backends/registry.js';
import { build, postJson, runSql } from '../helper.js';

function assertProblem(
  t: Test,
  reply: { statusCode: number; headers: Record<string, unknown>; json(): Record<string, unknown> },
  status: number,
  code: string,
) {
  t.equal(reply.statusCode, status, `status ${status}`);
  t.match(String(reply.headers['content-type']), /^application\/problem\+json/);
  const body = reply.json();
  t.equal(body.code, code);
  t.equal(body.status, status);
  t.equal(body.type, `urn:phone-verify:problem:${code}`);
  t.type(body.title, 'string');
  t.type(body.detail, 'string');
}

t.test('request errors', async (t) => {
  const { app } = await build(t);

  t.test('missing field', async (t) => {
    const reply = await postJson(app, '/v1/verifications', {});
    assertProblem(t, reply, 400, 'validation_error');
    t.match(reply.json().detail, /phone_number/);
  });

  t.test('no type coercion: a number is not a string', async (t) => {
    assertProblem(
      t,
      await postJson(app, '/v1/verifications', { phone_number: 14155550100 }),
      400,
      'validation_error',
    );
    assertProblem(
      t,
      await postJson(app, '/v1/verifications/verify', {
        phone_number: '+14155550100',
        security_code: 123456,
        session_token: 'x',
      }),
      400,
      'validation_error',
    );
  });

  t.test('JSON that does not parse, an empty body', async (t) => {
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { 'content-type': 'application/json' },
      payload: '{"phone_number":',
    });
    assertProblem(t, bad, 400, 'validation_error');
    const empty = await app.inject({
      method: 'POST',
      url: '/v1/verifications',
      headers: { 'content-type': 'application/json' },
      payload: '',
    });
    assertProblem(t, empty, 400, 'validation_error');
    const none = await app.inject({ method: 'POST', url: '/v1/verifications' });
    assertProblem(t, none, 400, 'validation_error');
  });

  t.test('a body that is not JSON is 415', async (t) => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const reply = await app.inject({
        method: 'POST',
        url: '/v1/verifications',
        headers: { 'content-type': type },
        payload: 'phone_number=+14155550100',
      });
      assertProblem(t, reply, 415, 'unsupported_media_type');
    }
  });

  t.test('an oversized body is 413', async (t) => {
    const reply = await postJson(app, '/v1/verifications', {
      phone_number: '+14155550100',
      padding: 'x'.repeat(20_000),
    });
    assertProblem(t, reply, 413, 'payload_too_large');
  });

  t.test('invalid phone numbers', async (t) => {
    for (const phone_number of ['hello', '+1 555', '4155550100', '+999 1234567', '+1415555010099999']) {
      const reply = await postJson(app, '/v1/verifications', { phone_number });
      assertProblem(t, reply, 400, 'invalid_phone_number');
    }
  });

  t.test('unknown routes and methods are 404 not_found', async (t) => {
    assertProblem(t, await app.inject('/nope'), 404, 'not_found');
    assertProblem(t, await app.inject('/v3/verifications'), 404, 'not_found');
    assertProblem(t, await app.inject({ method: 'DELETE', url: '/v1/verifications/x' }), 404, 'not_found');
  });
});

t.test('a server-side failure is 500 internal_error and reveals nothing', async (t) => {
  const target = await build(t);
  // Break the schema under the running app: the next query fails inside the database layer.
  await runSql(target.config.databaseUrl, 'ALTER TABLE verifications RENAME TO verifications_gone');
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: '+14155550100' });
  assertProblem(t, reply, 500, 'internal_error');
  t.notMatch(reply.body, /verifications|sqlite|prisma|stack|table/i, 'no internals in the answer');
  t.match(target.logs.text, /request failed/, 'the cause is logged');
});

t.test(
  'a backend step that throws a value that is not an Error is a 500 problem, never a bare one',
  async (t) => {
    const { ODD_VALUES } = await import('../fixtures/odd-values.mjs');
    class OddMessageBackend extends BaseBackend {
      override sendSms() {}
      override generateMessage(_code: string, context: { phoneNumber: string }) {
        const [, make, how] = ODD_VALUES[Number(context.phoneNumber.slice(-2)) % ODD_VALUES.length]!;
        const value = make('m');
        if (how === 'return') return value as Promise<string>;
        throw value;
      }
    }
    const name = `odd-message-${randomBytes(4).toString('hex')}`;
    builtInBackends[name] = (options) => new OddMessageBackend(options);
    t.teardown(() => {
      delete builtInBackends[name];
    });
    const target = await build(t, { env: { PHONE_VERIFICATION_BACKEND: name } });
    for (const [index, [label]] of ODD_VALUES.entries()) {
      const phone_number = `+141555501${String(index).padStart(2, '0')}`;
      const reply = await postJson(target.app, '/v1/verifications', { phone_number });
      if (label === 'undefined' || label === 'null') {
        t.equal(reply.statusCode, 500, `${label}: thrown, not returned`);
      }
      assertProblem(t, reply, 500, 'internal_error');
    }
  },
);
