// The OpenAPI description of django-phone-verify's routes under /api/phone: its request fields in
// JSON, form or multipart bodies, its answers, and Django REST framework's field-error shape.
// Documentation only (see openapi-only.ts).
import { Type } from '@sinclair/typebox';
import type { DocumentedSchema } from './openapi-only.js';
import { problemResponses } from './problem.js';

const consumes = ['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data'];

const PHONE_NUMBER = Type.String({
  description: 'Any common spelling of an international number; normalised to E.164.',
  examples: ['+14155550100'],
});

const Messages = Type.Array(Type.String());

/** DRF's 400: field name → its errors, or non_field_errors for the code's outcome. */
const DrfErrorsSchema = Type.Object(
  {
    non_field_errors: Type.Optional(
      Type.Array(
        Type.Unsafe<string>({
          type: 'string',
          enum: [
            'Security code is not valid',
            'Security code has expired',
            'Security code is already verified',
            'Too many failed verification attempts. Please request a new code.',
          ],
        }),
      ),
    ),
    phone_number: Type.Optional(Messages),
    session_token: Type.Optional(Messages),
    security_code: Type.Optional(Messages),
  },
  {
    title: 'DrfErrors',
    additionalProperties: false,
    description:
      'Django REST framework errors: a field\'s ("This field is required.", "This field may not be ' +
      'blank.", "Enter a valid phone number.") or the code check\'s (non_field_errors). A body that is ' +
      'not valid JSON is a problem+json validation_error instead.',
  },
);

const drfErrors = (example: unknown) => ({
  ...DrfErrorsSchema,
  'x-response-description': "Field errors or a refused code, in Django REST framework's shape",
  'x-examples': {
    missing: { value: { phone_number: ['This field is required.'] } },
    ...(example ? { refused: { value: example } } : {}),
  },
});

export const REGISTER_DOCS: DocumentedSchema = {
  consumes,
  body: Type.Object({ phone_number: PHONE_NUMBER }, { title: 'RegisterRequest' }),
  response: {
    200: {
      ...Type.Object(
        { session_token: Type.String({ description: 'Keep it for /api/phone/verify.' }) },
        { title: 'RegisterResponse', additionalProperties: false },
      ),
      'x-response-description': 'The code was sent',
      examples: [{ session_token: 'q3Yt0m7V1x9a4JmZbqk2nB8sR6dWc5fH' }],
    },
    400: drfErrors({ phone_number: ['Enter a valid phone number.'] }),
    ...problemResponses(
      'unauthorized',
      'destination_not_allowed',
      'destination_blocked',
      'payload_too_large',
      'unsupported_media_type',
      'rate_limited',
      'backend_error',
      'service_unavailable',
    ),
  },
};

export const VERIFY_DOCS: DocumentedSchema = {
  consumes,
  body: Type.Object(
    {
      phone_number: PHONE_NUMBER,
      session_token: Type.String({ description: 'From /api/phone/register.' }),
      security_code: Type.String({ description: 'The code the user received.', examples: ['123456'] }),
    },
    { title: 'VerifyRequest' },
  ),
  response: {
    200: {
      ...Type.Object(
        { message: Type.Literal('Security code is valid.') },
        { title: 'VerifyResponse', additionalProperties: false },
      ),
      'x-response-description': 'The code is right',
      examples: [{ message: 'Security code is valid.' }],
    },
    400: drfErrors({ non_field_errors: ['Security code is not valid'] }),
    ...problemResponses(
      'unauthorized',
      'payload_too_large',
      'unsupported_media_type',
      'rate_limited',
      'service_unavailable',
    ),
  },
};
