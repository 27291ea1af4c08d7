// Every error the API answers with, each with its stable `code` and HTTP status (docs/api.md,
// "Errors"), created in this one place. The error handler turns them into problem+json.
import { format } from 'node:util';

export const PROBLEM_TYPE_BASE = 'urn:phone-verify:problem:';

/** Title and status of each stable code; the title is the problem's short, fixed summary. */
export const PROBLEMS = {
  validation_error: { status: 400, title: 'Invalid request' },
  bad_request: { status: 400, title: 'Bad request' },
  invalid_phone_number: { status: 400, title: 'Invalid phone number' },
  security_code_invalid: { status: 400, title: 'Security code is invalid' },
  security_code_expired: { status: 400, title: 'Security code has expired' },
  security_code_already_verified: { status: 400, title: 'Security code was already used' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  destination_not_allowed: { status: 403, title: 'Destination not allowed' },
  destination_blocked: { status: 403, title: 'Destination blocked' },
  invalid_idempotency_key: { status: 400, title: 'Invalid Idempotency-Key' },
  invalid_signature: { status: 403, title: 'Invalid signature' },
  not_found: { status: 404, title: 'Not found' },
  request_timeout: { status: 408, title: 'Request timeout' },
  idempotency_key_in_use: { status: 409, title: 'Idempotency-Key in use' },
  idempotency_replay_unavailable: { status: 409, title: 'Idempotent answer unavailable' },
  payload_too_large: { status: 413, title: 'Payload too large' },
  uri_too_long: { status: 414, title: 'URI too long' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  expectation_failed: { status: 417, title: 'Expectation failed' },
  idempotency_key_mismatch: { status: 422, title: 'Idempotency-Key reused with another request' },
  rate_limited: { status: 429, title: 'Too many requests' },
  too_many_attempts: { status: 429, title: 'Too many failed attempts' },
  request_header_fields_too_large: { status: 431, title: 'Request header fields too large' },
  internal_error: { status: 500, title: 'Internal error' },
  backend_error: { status: 502, title: 'SMS backend failed' },
  service_unavailable: { status: 503, title: 'Service unavailable' },
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

/** The fields of an application/problem+json body (RFC 9457) plus the stable `code`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance?: string;
}

export function problem(code: ProblemCode, detail: string): Problem {
  const { status, title } = PROBLEMS[code];
  return { type: `${PROBLEM_TYPE_BASE}${code}`, title, status, detail, code };
}

/** Errors thrown by the domain and routes; `code` is the stable problem code, `statusCode` its status. */
export class AppError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ProblemCode,
    message: string,
  ) {
    super(message);
    this.name = 'AppError';
    this.statusCode = PROBLEMS[code].status;
  }
}

/**
 * One error class per use, in the manner of @fastify/error's createError (which upper-cases codes;
 * ours are lower-case by contract). `%s` in the message takes the constructor's argument.
 */
function define(code: ProblemCode, message: string) {
  return class extends AppError {
    constructor(detail?: string) {
      super(code, message.includes('%s') ? format(message, detail ?? '') : message);
    }
  };
}

export const InvalidPhoneNumber = define('invalid_phone_number', '%s');
export const SecurityCodeInvalid = define(
  'security_code_invalid',
  'The security code is not valid for this session.',
);
export const SecurityCodeExpired = define(
  'security_code_expired',
  'The security code has expired; start a new verification.',
);
export const SecurityCodeAlreadyVerified = define(
  'security_code_already_verified',
  'This security code was already used; codes are single-use.',
);
export const TooManyAttempts = define(
  'too_many_attempts',
  'Too many wrong codes: this verification is locked; start a new one.',
);
export const NotFound = define('not_found', '%s');
export const Unauthorized = define('unauthorized', '%s');
export const RateLimited = define('rate_limited', '%s');
export const DestinationNotAllowed = define('destination_not_allowed', '%s');
export const DestinationBlocked = define('destination_blocked', '%s');
export const InvalidSignature = define('invalid_signature', '%s');
export const BackendError = define('backend_error', 'The SMS backend could not send the message.');
export const ServiceUnavailable = define(
  'service_unavailable',
  'The database is unreachable; try again shortly.',
);

export const InvalidIdempotencyKey = define(
  'invalid_idempotency_key',
  'The Idempotency-Key header must be 1 to 255 visible ASCII characters (no spaces).',
);
export const IdempotencyKeyInUse = define(
  'idempotency_key_in_use',
  'A request with this Idempotency-Key is still in progress; retry shortly for its answer.',
);
export const IdempotencyReplayUnavailable = define(
  'idempotency_replay_unavailable',
  'A request with this Idempotency-Key was already answered, but that answer can no longer be read ' +
    '(the server secret changed, or is unset and the service restarted); nothing was sent again. ' +
    'Use a new Idempotency-Key to start another verification.',
);
export const IdempotencyKeyMismatch = define(
  'idempotency_key_mismatch',
  'This Idempotency-Key was already used with another request body; use a new key for a new request.',
);

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}
/** A backend broke its contract (e.g. validateSecurityCode returned no known status). */
export const InternalErrorFromBackend = define('internal_error', 'Backend contract violation: %s');
