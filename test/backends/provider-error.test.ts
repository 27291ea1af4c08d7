// What a provider error may carry into the log: the provider's words with this send's number
// masked and its message, code and credentials removed; transport failures as stable codes.
import t from 'tap';
import { BaseBackend } from '../../src/backends/base.js';
import { redact, SmsProviderError, transportError } from '../../src/backends/provider-error.js';
import { SandboxCode } from '../../src/backends/sandbox.js';

const secrets = {
  number: '+14155550100',
  message: 'Welcome to Phone Verify! Please use security code 583920 to proceed.',
  credentials: ['s3cr3t-value'],
};

t.test('redact removes what the provider echoed of this send', async (t) => {
  t.equal(
    redact("The 'To' number +14155550100 is not valid", secrets),
    "The 'To' number +1415*****00 is not valid",
  );
  t.equal(redact('rejected: 14155550100', secrets), 'rejected: 1415*****00');
  t.equal(redact(`body was: ${secrets.message}`, secrets), 'body was: [message]');
  t.equal(redact('blocked content 583920', secrets), 'blocked content [redacted]');
  t.equal(redact('auth s3cr3t-value refused', secrets), 'auth [redacted] refused');
  t.equal(redact('x'.repeat(400), secrets).length, 301, 'long texts are cut');
  t.equal(redact('Missing to param', secrets), 'Missing to param', 'anything else is kept');
});

t.test(
  'redact removes credentials in the encodings a provider may echo, and any Basic/Bearer value',
  async (t) => {
    const auth = {
      ...secrets,
      credentials: ['s3cr3t/value+1'],
      basicAuth: ['AC123', 's3cr3t/value+1'] as const,
    };
    const b64 = (text: string) => Buffer.from(text).toString('base64');
    const cases: [string, string][] = [
      [`Authorization: Basic ${b64('AC123:s3cr3t/value+1')}`, 'Authorization: Basic [redacted]'],
      [`header ${b64('AC123:s3cr3t/value+1')} refused`, 'header [redacted] refused'],
      [`token ${b64('s3cr3t/value+1')}`, 'token [redacted]'],
      [`token ${Buffer.from('s3cr3t/value+1').toString('base64url')}`, 'token [redacted]'],
      [`query secret=${encodeURIComponent('s3cr3t/value+1')}`, 'query secret=[redacted]'],
      ['Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl', 'Authorization: Bearer [redacted]'],
      ['authorization=basic%20QUMxMjM6c2VjcmV0', 'authorization=basic [redacted]'],
      ['Basic authentication failed', 'Basic [redacted] failed'],
      ['Bearer token missing', 'Bearer token missing'],
    ];
    for (const [text, expected] of cases) t.equal(redact(text, auth), expected, text);
    t.equal(
      redact('to 1234 ok', { ...secrets, credentials: ['abc'] }),
      'to 1234 ok',
      'a 3-letter value is no secret',
    );
  },
);

t.test('transport failures become stable codes without request details', async (t) => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9 Authorization: Basic abc'), {
    code: 'ECONNREFUSED',
  });
  t.match(transportError('twilio', refused, 1000, secrets), {
    name: 'SmsProviderError',
    code: 'ECONNREFUSED',
    message: 'twilio could not be reached (ECONNREFUSED)',
  });
  const aborted = Object.assign(new Error('The user aborted a request.'), { name: 'AbortError' });
  t.match(transportError('vonage', aborted, 250, secrets), {
    code: 'ETIMEDOUT',
    message: 'vonage did not answer within 250 ms',
  });
  t.match(
    transportError('vonage', Object.assign(new Error('canceled'), { code: 'ERR_CANCELED' }), 5, secrets),
    {
      code: 'ETIMEDOUT',
    },
  );
  const wrapped = new TypeError('fetch failed', {
    cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }),
  });
  t.match(transportError('vonage', wrapped, 5, secrets), { code: 'ENOTFOUND' });
  const odd = transportError('twilio', new Error(`unexpected ${secrets.message}`), 5, secrets);
  t.equal(odd.code, 'EPROVIDER');
  t.equal(odd.message, 'twilio request failed: unexpected [message]');
  t.ok(odd instanceof SmsProviderError);
});

t.test('the sandbox code is the token, compared whole', async (t) => {
  const sandbox = new SandboxCode('424242');
  t.equal(sandbox.generate(), '424242');
  t.equal(sandbox.validate('424242'), BaseBackend.SECURITY_CODE_VALID);
  t.equal(sandbox.validate('42424'), BaseBackend.SECURITY_CODE_INVALID);
  t.equal(sandbox.validate('4242420'), BaseBackend.SECURITY_CODE_INVALID);
  t.equal(sandbox.validate(''), BaseBackend.SECURITY_CODE_INVALID);
});
