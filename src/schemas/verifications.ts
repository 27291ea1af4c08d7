// Request and response schemas of /v1/verifications: validation, serialisation, TypeScript types
// and the OpenAPI document all come from here.
import { type Static, Type } from '@sinclair/typebox';

const PhoneNumber = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'an international number in any common spelling; answered in E.164',
  examples: ['+14155550100', '+1 (415) 555-0100'],
});
const Timestamp = Type.String({ format: 'date-time' });

export const StartBody = Type.Object({
  phone_number: PhoneNumber,
  locale: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 35,
      description: 'language of the message (BCP 47), before Accept-Language',
      examples: ['de', 'pt-BR'],
    }),
  ),
});
export type StartBody = Static<typeof StartBody>;

export const StartHeaders = Type.Object({
  'Idempotency-Key': Type.Optional(
    Type.String({
      description:
        'makes the start safe to retry: 1 to 255 visible ASCII characters (a UUID, say), else 400 ' +
        'invalid_idempotency_key. A retry with the same key and body within 24 hours gets the first ' +
        'answer again (header Idempotent-Replayed: true) and sends nothing; the same key with another ' +
        'body is 422 idempotency_key_mismatch; while the first request is still running, a retry ' +
        'waits for its answer, or after a while is 409 idempotency_key_in_use with Retry-After. Keys ' +
        'are per API key.',
      examples: ['3f0c9a52-7d1e-4b8a-9c61-2e5f04d7b1aa'],
    }),
  ),
});

export const StartedBody = Type.Object({
  id: Type.String(),
  session_token: Type.String({ description: 'opaque secret; send it back with the code' }),
  phone_number: Type.String({ examples: ['+14155550100'] }),
  status: Type.Literal('pending'),
  expires_at: Timestamp,
});

export const VerifyBody = Type.Object({
  phone_number: PhoneNumber,
  security_code: Type.String({ minLength: 1, maxLength: 64, examples: ['123456'] }),
  session_token: Type.String({ minLength: 1, maxLength: 512 }),
});
export type VerifyBody = Static<typeof VerifyBody>;

export const ApprovedBody = Type.Object({
  status: Type.Literal('approved'),
  phone_number: Type.String({ examples: ['+14155550100'] }),
  verified_at: Timestamp,
});

export const VerificationParams = Type.Object({
  id: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'the id the start answered (a UUID); any other text is 404 not_found',
    examples: ['01a21301-9300-7c3a-9f1e-5b2d8c4a7e61'],
  }),
});
export type VerificationParams = Static<typeof VerificationParams>;

export const SendAttemptBody = Type.Object({
  backend: Type.String({ description: 'the configured backend name', examples: ['twilio'] }),
  status: Type.Union(['sent', 'delivered', 'undelivered', 'failed'].map((s) => Type.Literal(s))),
  provider_message_id: Type.Union([Type.String(), Type.Null()], {
    description: "the provider's id of the message (Twilio SM…, Vonage message-id, a webhook's id)",
  }),
  error_code: Type.Union([Type.String(), Type.Null()], {
    description:
      "why it failed or was not delivered: the provider's error code, or a transport code such as ETIMEDOUT",
  }),
  created_at: Timestamp,
  updated_at: Timestamp,
});

export const VerificationBody = Type.Object({
  id: Type.String(),
  phone_number: Type.String(),
  status: Type.Union(
    ['pending', 'approved', 'expired', 'locked', 'failed', 'canceled'].map((s) => Type.Literal(s)),
  ),
  created_at: Timestamp,
  expires_at: Timestamp,
  verified_at: Type.Union([Timestamp, Type.Null()]),
  attempts: Type.Integer({ description: 'wrong codes submitted so far' }),
  delivery_status: Type.Union(
    ['sent', 'delivered', 'undelivered', 'failed', 'unknown'].map((s) => Type.Literal(s)),
    {
      description:
        "the latest send's status: sent (the backend took it), delivered or undelivered (the provider's delivery receipt), failed, or unknown (nothing sent: a test number)",
    },
  ),
  send_attempts: Type.Array(SendAttemptBody, {
    description: 'every send of this session, oldest first; a fallback backend adds its own',
  }),
});
