// The process refuses to start a provider backend with a missing option: exit 1 and one line on
// stderr naming the variable and the backend, never a secret value.
import t from 'tap';
import { ensureBuilt, startRefused } from '../service-process.js';

ensureBuilt();

const SECRET = 'start-up-secret-never-printed';

t.test('twilio without FROM', async (t) => {
  const { code, stderr } = await startRefused(t, {
    PHONE_VERIFICATION_BACKEND: 'twilio',
    PHONE_VERIFICATION_OPTIONS_SID: 'AC0123456789abcdef0123456789abcdef',
    PHONE_VERIFICATION_OPTIONS_SECRET: SECRET,
  });
  t.equal(code, 1);
  t.equal(stderr, 'phone-verify: PHONE_VERIFICATION_OPTIONS_FROM: required by the twilio backend\n');
});

t.test('vonage-sandbox without SANDBOX_TOKEN, options in the JSON', async (t) => {
  const { code, stderr } = await startRefused(t, {
    PHONE_VERIFICATION_BACKEND: 'vonage-sandbox',
    PHONE_VERIFICATION_OPTIONS: JSON.stringify({ KEY: 'abc123', SECRET, FROM: 'PhoneVerify' }),
  });
  t.equal(code, 1);
  t.equal(
    stderr,
    'phone-verify: PHONE_VERIFICATION_OPTIONS_SANDBOX_TOKEN: required by the vonage-sandbox backend\n',
  );
  t.notOk(stderr.includes(SECRET));
});
