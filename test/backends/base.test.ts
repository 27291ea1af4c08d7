// BaseBackend: django-phone-verify's constants, CSPRNG codes, opaque tokens, bounded bulk sends with
// outcomes.
import t from 'tap';
import { attachRuntime, BaseBackend, usesBaseValidation } from '../../src/backends/base.js';
import { ConsoleBackend } from '../../src/backends/console.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} };

t.test('constants on the class and the instance', async (t) => {
  const backend = new BaseBackend();
  t.same(
    [
      BaseBackend.SECURITY_CODE_VALID,
      BaseBackend.SECURITY_CODE_INVALID,
      BaseBackend.SECURITY_CODE_EXPIRED,
      BaseBackend.SECURITY_CODE_VERIFIED,
      BaseBackend.SESSION_TOKEN_INVALID,
      BaseBackend.SECURITY_CODE_TOO_MANY_ATTEMPTS,
    ],
    [0, 1, 2, 3, 4, 5],
  );
  t.equal(backend.SECURITY_CODE_EXPIRED, 2);
});

t.test('options are lower-cased', async (t) => {
  t.same(new BaseBackend({ SID: 'a', From: 'b' }).options, { sid: 'a', from: 'b' });
});

t.test('security codes: TOKEN_LENGTH digits, uniformly spread', async (t) => {
  const backend = new BaseBackend();
  attachRuntime(backend, { tokenLength: 8, logger: silent, checkSecurityCode: async () => 1 });
  const counts = new Array(10).fill(0);
  const malformed: string[] = [];
  for (let i = 0; i < 2000; i++) {
    const code = backend.generateSecurityCode();
    if (!/^\d{8}$/.test(code)) malformed.push(code);
    for (const digit of code) counts[Number(digit)]++;
  }
  t.same(malformed, [], 'every code is 8 digits');
  // 16,000 digits: each should be near 1,600; a biased generator would miss by far more than 300.
  for (const count of counts) t.ok(Math.abs(count - 1600) < 300, `digit frequency ${count}`);
});

t.test('session tokens are 256-bit and unique', async (t) => {
  const backend = new BaseBackend();
  const tokens = new Set(Array.from({ length: 1000 }, () => backend.generateSessionToken('+14155550100')));
  t.equal(tokens.size, 1000);
  for (const token of tokens) t.equal(Buffer.from(token, 'base64url').length, 32);
});

t.test('sendSms is required; generateMessage defaults to the template', async (t) => {
  const backend = new BaseBackend();
  t.throws(() => backend.sendSms('+1', 'm'), /does not implement sendSms/);
  t.equal(backend.generateMessage('123', { app: 'A', phoneNumber: '+1' }), undefined);
  t.ok(usesBaseValidation(backend));
  t.ok(usesBaseValidation(new ConsoleBackend()));
});

t.test('sendBulkSms: bounded concurrency, every number reported, failures isolated', async (t) => {
  let running = 0;
  let peak = 0;
  class Recording extends BaseBackend {
    static override bulkConcurrency = 3;
    override async sendSms(number: string) {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      if (number.endsWith('3')) throw new Error(`provider refused ${number}`);
      return { sid: `SM${number}` };
    }
  }
  const numbers = Array.from({ length: 10 }, (_, i) => `+1415555010${i}`);
  const outcomes = await new Recording().sendBulkSms(numbers, 'hello');
  t.equal(peak, 3, 'never more than bulkConcurrency at once');
  t.same(
    outcomes.map((outcome) => outcome.number),
    numbers,
    'one outcome per number, in order',
  );
  t.same(outcomes[3], { number: '+14155550103', ok: false, error: 'provider refused +14155550103' });
  t.same(outcomes[4], { number: '+14155550104', ok: true, result: { sid: 'SM+14155550104' } });
  t.equal(outcomes.filter((outcome) => outcome.ok).length, 9);
});

t.test('the base validation asks the service', async (t) => {
  const backend = new BaseBackend();
  t.equal(
    await backend.validateSecurityCode('1', '+1', 't'),
    BaseBackend.SECURITY_CODE_INVALID,
    'no service: invalid',
  );
  const calls: string[][] = [];
  attachRuntime(backend, {
    tokenLength: 6,
    logger: silent,
    checkSecurityCode: async (...args) => {
      calls.push(args);
      return BaseBackend.SECURITY_CODE_VALID;
    },
  });
  t.equal(await backend.validateSecurityCode('123456', '+14155550100', 'tok'), 0);
  t.same(calls, [['123456', '+14155550100', 'tok']]);
});
