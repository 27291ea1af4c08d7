// A custom validateSecurityCode that calls the base (super.validateSecurityCode) keeps the base's
// rules and bookkeeping: each wrong code counted once, exactly one approval of a single-use code
// however many verifies race, the lock; and an override that changes the base's verdict is applied.
import t from 'tap';
import { expire } from '../helper.js';
import { buildWithPlugin, codeIn, outbox, start, verify } from './plugin-support.js';

t.test('an override that asks the base and returns its verdict behaves as the base', async (t) => {
  const box = outbox(t);
  const target = await buildWithPlugin(t, 'wraps-base.AuditingBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
    PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: '2',
  });
  const { body } = await start(target);
  const code = codeIn(box.sent().at(-1)!.message);
  const wrong = code === '000000' ? '111111' : '000000';

  t.equal((await verify(target, body, wrong)).json().code, 'security_code_invalid');
  const afterWrong = (await target.app.inject(`/v1/verifications/${body.id}`)).json();
  t.equal(afterWrong.attempts, 1, 'the wrong code is counted once, not again by the service');
  t.equal((await verify(target, body, code)).statusCode, 200);
  t.equal((await verify(target, body, code)).json().code, 'security_code_already_verified');
  t.equal(
    target.logs.entries.filter((entry) => entry.msg === 'audited a check').length,
    3,
    'the override ran for every check',
  );

  const locked = (await start(target, '+14155550111')).body;
  const lockedCode = codeIn(box.sent().at(-1)!.message);
  const other = lockedCode === '000000' ? '111111' : '000000';
  t.equal((await verify(target, locked, other)).json().code, 'security_code_invalid');
  t.equal((await verify(target, locked, other)).json().code, 'security_code_invalid');
  t.equal((await verify(target, locked, lockedCode)).json().code, 'too_many_attempts');
});

t.test('concurrent verifies through an override that asks the base: exactly one approval', async (t) => {
  const box = outbox(t);
  const target = await buildWithPlugin(t, 'wraps-base.AuditingBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
  });
  const { body } = await start(target);
  const code = codeIn(box.sent().at(-1)!.message);
  const replies = await Promise.all(Array.from({ length: 30 }, () => verify(target, body, code)));
  const statuses = replies.map((reply) => reply.statusCode);
  t.equal(statuses.filter((status) => status === 200).length, 1, 'one 200');
  t.same(
    replies.filter((reply) => reply.statusCode !== 200).map((reply) => reply.json().code),
    Array(29).fill('security_code_already_verified'),
  );
});

t.test('an override that changes the base verdict is applied: EXPIRED turned VALID approves', async (t) => {
  const box = outbox(t);
  const target = await buildWithPlugin(t, 'wraps-base.GraceBackend', {
    PHONE_VERIFICATION_OPTIONS_OUTBOX: box.file,
  });
  const { body } = await start(target);
  const code = codeIn(box.sent().at(-1)!.message);
  await expire(target.config.databaseUrl, body.id);
  const wrong = code === '000000' ? '111111' : '000000';
  t.equal(
    (await verify(target, body, wrong)).json().code,
    'security_code_invalid',
    'a wrong code stays wrong',
  );
  const late = await verify(target, body, code);
  t.equal(late.statusCode, 200, late.body);
  const view = (await target.app.inject(`/v1/verifications/${body.id}`)).json();
  t.match(view, { status: 'approved', attempts: 1 });
});
