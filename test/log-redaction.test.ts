// The log redactor: what it censors, where, and that the logged object itself is left as it was.
import t from 'tap';
import { createRedactor } from '../src/log-redaction.js';
import { maskPhoneNumber } from '../src/verification/phone.js';

const rules = { secretFields: ['token', 'secret', 'options'], phoneFields: ['phone_number'] };
const masked = createRedactor({ ...rules, maskPhone: maskPhoneNumber });
const full = createRedactor({ ...rules, maskPhone: null });

t.test('secret fields at the top level and one level down; phone numbers masked', async (t) => {
  const entry = {
    token: 'abc',
    phone_number: '+14155550100',
    outer: { secret: 's', phone_number: '+14155550100', kept: 1 },
    options: { FROM: 'x' },
    list: [{ token: 'in-an-array' }],
    count: 3,
  };
  const snapshot = structuredClone(entry);
  t.same(masked(entry), {
    token: '[redacted]',
    phone_number: '+1415*****00',
    outer: { secret: '[redacted]', phone_number: '+1415*****00', kept: 1 },
    options: '[redacted]',
    list: [{ token: 'in-an-array' }], // as pino's `*.field` paths: arrays are not searched
    count: 3,
  });
  t.same(entry, snapshot, 'the logged object is unchanged');
  t.equal(full(entry).phone_number, '+14155550100', 'LOG_PHONE_NUMBERS=full shows numbers');
  t.equal(
    masked({ phone_number: 14155550100 }).phone_number,
    '[redacted]',
    'a non-string number is redacted',
  );
});

t.test('a line with nothing to censor is passed through as it is', async (t) => {
  const entry = { method: 'POST', url: '/v1/verifications', statusCode: 201, nested: { a: 1 } };
  t.equal(masked(entry), entry);
});

t.test('an error keeps its type, message and stack while its secret fields are censored', async (t) => {
  const err = Object.assign(new TypeError('boom'), { token: 't0ken', status: 500 });
  const out = masked({ err }).err as TypeError & { token: string; status: number };
  t.ok(out instanceof TypeError);
  t.equal(out.message, 'boom');
  t.equal(out.stack, err.stack);
  t.equal(out.token, '[redacted]');
  t.equal(out.status, 500);
  t.equal(err.token, 't0ken', 'the original error is unchanged');
});

t.test('credential headers of a logged request are censored', async (t) => {
  const req = {
    method: 'GET',
    headers: { authorization: 'Bearer k', cookie: 'c', 'x-api-key': 'k', accept: '*/*' },
  };
  t.same(masked({ req }), {
    req: {
      method: 'GET',
      headers: {
        authorization: '[redacted]',
        cookie: '[redacted]',
        'x-api-key': '[redacted]',
        accept: '*/*',
      },
    },
  });
  t.equal(req.headers.authorization, 'Bearer k', 'the request is unchanged');
});
