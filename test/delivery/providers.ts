// Environments for the delivery tests: the real Twilio and Vonage backends (primary or fallback)
// pointed at the local fakes of test/fakes, and the webhook backend pointed at a test receiver.
export const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
export const TWILIO_SECRET = 'twilio-auth-token-for-delivery-tests';
export const VONAGE_KEY = 'vonagekey1';
export const VONAGE_SECRET = 'vonage-api-secret-for-delivery-tests';
export const VONAGE_SIGNATURE_SECRET = 'vonage-signature-secret-for-delivery-tests';
export const WEBHOOK_SECRET = 'webhook-shared-secret-for-delivery-tests';

type Role = 'primary' | 'fallback';

/** PHONE_VERIFICATION_[FALLBACK_]BACKEND and its per-key options. */
function backendEnv(role: Role, name: string, options: Record<string, string>): Record<string, string> {
  const prefix = role === 'primary' ? 'PHONE_VERIFICATION_' : 'PHONE_VERIFICATION_FALLBACK_';
  const env: Record<string, string> = { [`${prefix}BACKEND`]: name };
  for (const [key, value] of Object.entries(options)) env[`${prefix}OPTIONS_${key}`] = value;
  return env;
}

export function twilioEnv(role: Role, baseUrl: string, extra: Record<string, string> = {}) {
  return backendEnv(role, 'twilio', {
    SID: TWILIO_SID,
    SECRET: TWILIO_SECRET,
    FROM: '+15005550006',
    BASE_URL: baseUrl,
    ...extra,
  });
}

export function vonageEnv(role: Role, baseUrl: string, extra: Record<string, string> = {}) {
  return backendEnv(role, 'vonage', {
    KEY: VONAGE_KEY,
    SECRET: VONAGE_SECRET,
    FROM: 'PhoneVerify',
    BASE_URL: baseUrl,
    ...extra,
  });
}

export function webhookEnv(role: Role, url: string, extra: Record<string, string> = {}) {
  return backendEnv(role, 'webhook', { URL: url, SECRET: WEBHOOK_SECRET, ...extra });
}
