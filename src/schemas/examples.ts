// Example bodies for the OpenAPI document: one per success response and one per error code, so a
// reader (or a generated client's docs) sees real payloads beside every status.
import { type ProblemCode, problem } from '../errors.js';

/** Request bodies by "METHOD path". */
export const REQUEST_EXAMPLES: Record<string, unknown> = {
  'post /v1/verifications': { phone_number: '+1 (415) 555-0100', locale: 'de' },
  'post /v1/verifications/verify': {
    phone_number: '+14155550100',
    security_code: '123456',
    session_token: 'q3Yt0m7V1x9a4JmZbqk2nB8sR6dWc5fH',
  },
};

/** Success bodies by "METHOD path" (the OpenAPI path form) and status. */
export const SUCCESS_EXAMPLES: Record<string, Record<string, unknown>> = {
  'post /v1/verifications': {
    '201': {
      id: '01a21301-9300-7c3a-9f1e-5b2d8c4a7e61',
      session_token: 'q3Yt0m7V1x9a4JmZbqk2nB8sR6dWc5fH',
      phone_number: '+14155550100',
      status: 'pending',
      expires_at: '2026-01-01T13:00:00.000Z',
    },
  },
  'post /v1/verifications/verify': {
    '200': { status: 'approved', phone_number: '+14155550100', verified_at: '2026-01-01T12:01:30.000Z' },
  },
  'get /v1/verifications/{id}': {
    '200': {
      id: '01a21301-9300-7c3a-9f1e-5b2d8c4a7e61',
      phone_number: '+14155550100',
      status: 'approved',
      created_at: '2026-01-01T12:00:00.000Z',
      expires_at: '2026-01-01T13:00:00.000Z',
      verified_at: '2026-01-01T12:01:30.000Z',
      attempts: 0,
      delivery_status: 'delivered',
      send_attempts: [
        {
          backend: 'twilio',
          status: 'failed',
          provider_message_id: null,
          error_code: 'ETIMEDOUT',
          created_at: '2026-01-01T12:00:00.000Z',
          updated_at: '2026-01-01T12:00:00.000Z',
        },
        {
          backend: 'vonage',
          status: 'delivered',
          provider_message_id: '0B0000012345ABCD',
          error_code: null,
          created_at: '2026-01-01T12:00:10.000Z',
          updated_at: '2026-01-01T12:00:14.000Z',
        },
      ],
    },
  },
  'post /v1/callbacks/twilio': { '200': { outcome: 'recorded' } },
  'get /v1/callbacks/vonage': { '200': { outcome: 'recorded' } },
  'post /v1/callbacks/vonage': { '200': { outcome: 'ignored' } },
  'get /v1/fraud-guard/blocks': {
    '200': {
      blocks: [
        {
          prefix: '+4477009',
          blocked_at: '2026-01-01T12:00:00.000Z',
          until: '2026-01-02T00:00:00.000Z',
          starts: 40,
          approvals: 0,
        },
      ],
    },
  },
  'get /healthz': { '200': { status: 'ok' } },
  'get /readyz': { '200': { status: 'ok' } },
};

const DETAILS: Record<ProblemCode, string> = {
  validation_error: "Invalid request: must have required property 'phone_number'",
  bad_request: 'The request is not valid HTTP: a malformed percent-encoding in its URL (%ff).',
  invalid_phone_number: 'The phone number "12345" is not a valid international number.',
  security_code_invalid: 'The security code is not valid for this session.',
  security_code_expired: 'The security code has expired; start a new verification.',
  security_code_already_verified: 'The security code was already used.',
  unauthorized: 'Send a valid API key as "Authorization: Bearer <key>".',
  destination_not_allowed: 'Numbers of this country (XY) are not accepted by this service.',
  destination_blocked:
    'Verifications to this destination are paused after unusual traffic; retry in 3600 second(s).',
  invalid_idempotency_key:
    'The Idempotency-Key header must be 1 to 255 visible ASCII characters (no spaces).',
  idempotency_key_in_use:
    'A request with this Idempotency-Key is still in progress; retry shortly for its answer.',
  idempotency_replay_unavailable:
    'A request with this Idempotency-Key was already answered, but that answer can no longer be read; nothing was sent again.',
  idempotency_key_mismatch:
    'This Idempotency-Key was already used with another request body; use a new key for a new request.',
  invalid_signature:
    'The callback carries no valid X-Twilio-Signature for a configured Twilio backend; nothing was changed.',
  not_found: 'No verification with id "01a21301-9300-7c3a-9f1e-5b2d8c4a7e61"',
  request_timeout: 'The request did not arrive in full within 30 seconds.',
  payload_too_large: 'The request body is larger than this service accepts.',
  uri_too_long: 'The URL, or a path segment of it, is longer than this service accepts.',
  expectation_failed: 'Only "Expect: 100-continue" is supported.',
  request_header_fields_too_large: 'The request line and headers are larger than 16 KiB.',
  unsupported_media_type: 'Send the body as application/json.',
  rate_limited: 'Too many requests; retry after 60 seconds.',
  too_many_attempts: 'Too many wrong codes: this verification is locked.',
  internal_error: 'The service failed to handle this request.',
  backend_error: 'The SMS backend failed to send the message.',
  service_unavailable: 'The database is unreachable.',
};

/** An example problem document for a code. */
export function problemExample(code: ProblemCode) {
  return problem(code, DETAILS[code]);
}
