// The variables of SMS-bill protection (docs/sms-bill-protection.md) and delivery (docs/delivery.md):
// defaults, accepted values, and one-line refusals naming the variable.
import t from 'tap';
import { ConfigError, loadConfig } from '../src/config.js';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

t.test('defaults', async (t) => {
  const config = loadConfig({});
  t.same(config.allowedCountries, []);
  t.same(config.deniedCountries, []);
  t.same(config.deniedNumberTypes, ['PREMIUM_RATE', 'SHARED_COST', 'PAGER', 'UAN', 'VOICEMAIL']);
  t.equal(config.phoneResendIntervalMs, 0);
  t.same(config.prefixRateLimit, { max: 50, windowMs: 3_600_000 });
  t.same(config.fraudGuard, {
    mode: 'enforce',
    windowMs: 3_600_000,
    minStarts: 20,
    minConversion: 0.1,
    graceMs: 120_000,
    blockMs: 43_200_000,
    safeList: [],
  });
  t.equal(config.smsBudget, undefined);
  t.same(config.testPhoneNumbers, {});
  t.equal(config.testPhoneNumbersUntil, undefined);
  t.equal(config.fallbackBackend, undefined);
  t.same(config.fallbackBackendOptions, {});
  t.equal(config.publicUrl, undefined);
  t.equal(config.serverSecret, undefined);
});

t.test('accepted values', async (t) => {
  const config = loadConfig({
    ALLOWED_COUNTRIES: 'us, ca,GB',
    DENIED_COUNTRIES: 'RU',
    DENIED_NUMBER_TYPES: 'voip,TOLL_FREE',
    PHONE_RESEND_INTERVAL: '30 seconds',
    PREFIX_RATE_LIMIT_MAX: '7',
    PREFIX_RATE_LIMIT_WINDOW: '10 minutes',
    FRAUD_GUARD: 'Monitor',
    FRAUD_GUARD_WINDOW: '2 hours',
    FRAUD_GUARD_MIN_STARTS: '3',
    FRAUD_GUARD_MIN_CONVERSION: '0.25',
    FRAUD_GUARD_GRACE: '0',
    FRAUD_GUARD_BLOCK: '1 day',
    FRAUD_GUARD_SAFE_LIST: '+1415555, +447700900123',
    SMS_BUDGET_MAX: '1000',
    SMS_BUDGET_WINDOW: '1 day',
    TEST_PHONE_NUMBERS: '+15555550100=123456, +15555550101=0000',
    TEST_PHONE_NUMBERS_UNTIL: '2027-01-31T00:00:00Z',
    PHONE_VERIFICATION_FALLBACK_BACKEND: 'vonage',
    PHONE_VERIFICATION_FALLBACK_OPTIONS: '{"KEY": "k", "Secret": "s1"}',
    PHONE_VERIFICATION_FALLBACK_OPTIONS_SECRET: 's2',
    PHONE_VERIFICATION_OPTIONS_SID: 'primary',
    PUBLIC_URL: 'https://verify.example.com/pv/',
    SERVER_SECRET: 'x'.repeat(32),
  });
  t.same(config.allowedCountries, ['US', 'CA', 'GB']);
  t.same(config.deniedCountries, ['RU']);
  t.same(config.deniedNumberTypes, ['VOIP', 'TOLL_FREE']);
  t.equal(config.phoneResendIntervalMs, 30_000);
  t.same(config.prefixRateLimit, { max: 7, windowMs: 600_000 });
  t.same(config.fraudGuard, {
    mode: 'monitor',
    windowMs: 7_200_000,
    minStarts: 3,
    minConversion: 0.25,
    graceMs: 0,
    blockMs: 86_400_000,
    safeList: ['+1415555', '+447700900123'],
  });
  t.same(config.smsBudget, { max: 1000, windowMs: 86_400_000 });
  t.same(config.testPhoneNumbers, { '+15555550100': '123456', '+15555550101': '0000' });
  t.equal(config.testPhoneNumbersUntil?.toISOString(), '2027-01-31T00:00:00.000Z');
  t.equal(config.fallbackBackend, 'vonage');
  t.same(config.fallbackBackendOptions, { key: 'k', secret: 's2' }, 'per-key wins, keys lower-cased');
  t.same(config.backendOptions, { sid: 'primary' }, 'the primary options are not mixed in');
  t.equal(config.publicUrl, 'https://verify.example.com/pv', 'stored without the trailing slash');
  t.equal(config.serverSecret, 'x'.repeat(32));
  t.same(loadConfig({ DENIED_NUMBER_TYPES: 'none' }).deniedNumberTypes, []);
  t.same(loadConfig({ FRAUD_GUARD_MIN_CONVERSION: '1' }).fraudGuard.minConversion, 1);
  t.same(loadConfig({ FRAUD_GUARD_MIN_CONVERSION: '0' }).fraudGuard.minConversion, 0);
  t.equal(loadConfig({ PHONE_RESEND_INTERVAL: '0' }).phoneResendIntervalMs, 0);
});

t.test('bad values stop the start with one line naming the variable', async (t) => {
  const cases: Record<string, string>[] = [
    { ALLOWED_COUNTRIES: 'USA' },
    { ALLOWED_COUNTRIES: 'US,XX' },
    { DENIED_COUNTRIES: 'U1' },
    { DENIED_NUMBER_TYPES: 'MOBILE_ISH' },
    { PHONE_RESEND_INTERVAL: 'soon' },
    { PREFIX_RATE_LIMIT_MAX: '0' },
    { PREFIX_RATE_LIMIT_WINDOW: '1 fortnight' },
    { FRAUD_GUARD: 'sometimes' },
    { FRAUD_GUARD_WINDOW: '0' },
    { FRAUD_GUARD_MIN_STARTS: '0' },
    { FRAUD_GUARD_MIN_STARTS: '2.5' },
    { FRAUD_GUARD_MIN_CONVERSION: '1.5' },
    { FRAUD_GUARD_MIN_CONVERSION: '-0.1' },
    { FRAUD_GUARD_MIN_CONVERSION: 'ten percent' },
    { FRAUD_GUARD_GRACE: 'a bit' },
    { FRAUD_GUARD_BLOCK: '0' },
    { FRAUD_GUARD_SAFE_LIST: '1415555' },
    { SMS_BUDGET_MAX: '0' },
    { SMS_BUDGET_MAX: 'lots' },
    { SMS_BUDGET_WINDOW: 'weekly' },
    { TEST_PHONE_NUMBERS: '+15555550100' },
    { TEST_PHONE_NUMBERS: '+15555550100=12' },
    { TEST_PHONE_NUMBERS: '15555550100=123456' },
    { TEST_PHONE_NUMBERS_UNTIL: 'tomorrow' },
    { TEST_PHONE_NUMBERS_UNTIL: '2027-13-45' },
    { PHONE_VERIFICATION_FALLBACK_BACKEND: '../x' },
    { PHONE_VERIFICATION_FALLBACK_OPTIONS: '{"a":' },
    { PHONE_VERIFICATION_FALLBACK_OPTIONS: '[1]' },
    { PUBLIC_URL: 'verify.example.com' },
    { PUBLIC_URL: 'ftp://verify.example.com' },
    { PUBLIC_URL: 'https://verify.example.com/?a=1' },
    { SERVER_SECRET: 'short-secret' },
  ];
  for (const env of cases) {
    const [name] = Object.keys(env);
    const message = refusal(env);
    t.ok(message.startsWith(`${name}: `), `${JSON.stringify(env)} → ${message}`);
    t.notMatch(message, /\n/, 'one line');
  }
});

t.test('secrets are never echoed', async (t) => {
  const secret = refusal({ SERVER_SECRET: 'hunter2-too-short' });
  t.notMatch(secret, /hunter2/);
  const json = refusal({ PHONE_VERIFICATION_FALLBACK_OPTIONS: '{"SECRET": "hunter2", ' });
  t.notMatch(json, /hunter2/);
});
