// The OpenAPI description of /v2: Twilio's form parameters in, Twilio's resources and error body
// out, with the fields twilio-oai's twilio_verify_v2.json defines for Service, Verification and
// VerificationCheck. Documentation only (see openapi-only.ts); the examples are the real wire
// functions' output, so they cannot drift from what the routes send.
import { type TSchema, Type } from '@sinclair/typebox';
import type { SendRecord } from '../verification/store.js';
import type { DocumentedSchema } from './openapi-only.js';
import { checkJson, serviceJson, TwilioError, verificationJson, type Wire } from './twilio-wire.js';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const oneOf = (values: string[], description?: string) =>
  Type.Unsafe<string>({ type: 'string', enum: values, ...(description ? { description } : {}) });
const sid = (prefix: string, description: string) =>
  Type.String({ pattern: `^${prefix}[0-9a-fA-F]{32}$`, description });
const date = (description: string) =>
  Type.String({ format: 'date-time', description: `${description} (ISO 8601, UTC, no fractions)` });
const uri = (description: string) => Type.String({ format: 'uri', description });

const ACCOUNT_SID = sid('AC', 'The account SID of the request (the Basic auth user name).');
const SERVICE_SID = sid('VA', 'The SID of the Service the resource belongs to.');
const STATUS = oneOf(
  ['pending', 'approved', 'canceled', 'max_attempts_reached', 'deleted', 'failed', 'expired'],
  "The verification's status.",
);
const AMOUNT = nullable(
  Type.String({
    description: "The PSD2 transaction's amount (Amount) given at the start, or null; kept and echoed.",
  }),
);
const PAYEE = nullable(
  Type.String({
    description: "The PSD2 transaction's payee (Payee) given at the start, or null; kept and echoed.",
  }),
);

export const TwilioServiceSchema = Type.Object(
  {
    sid: sid('VA', 'The SID of the Service.'),
    account_sid: ACCOUNT_SID,
    friendly_name: Type.String({ description: "The service's name: the message's {app}." }),
    code_length: Type.Integer({ minimum: 4, maximum: 10, description: 'Digits in a verification code.' }),
    lookup_enabled: Type.Boolean({ description: 'Always false.' }),
    psd2_enabled: Type.Boolean({ description: 'Always false (Amount and Payee are echoed regardless).' }),
    skip_sms_to_landlines: Type.Boolean({ description: 'Always false.' }),
    dtmf_input_required: Type.Boolean({ description: 'Always false.' }),
    tts_name: nullable(Type.String({ description: 'Always null.' })),
    do_not_share_warning_enabled: Type.Boolean({ description: 'Always false.' }),
    custom_code_enabled: Type.Boolean({ description: 'Always false: codes are always generated.' }),
    push: Type.Object(
      {
        include_date: Type.Boolean(),
        apn_credential_sid: nullable(Type.String()),
        fcm_credential_sid: nullable(Type.String()),
      },
      { description: "Twilio's push defaults (push is not supported)." },
    ),
    totp: Type.Object(
      {
        issuer: nullable(Type.String()),
        time_step: Type.Integer(),
        code_length: Type.Integer(),
        skew: Type.Integer(),
      },
      { description: "Twilio's TOTP defaults (TOTP is not supported)." },
    ),
    default_template_sid: nullable(Type.String({ description: 'Always null.' })),
    whatsapp: Type.Object(
      { msg_service_sid: nullable(Type.String()), from: nullable(Type.String()) },
      { description: "Twilio's WhatsApp defaults (WhatsApp is not supported)." },
    ),
    passkeys: nullable(Type.Object({}, { additionalProperties: true, description: 'Always null.' })),
    verify_event_subscription_enabled: Type.Boolean({ description: 'Always false.' }),
    date_created: date('When the service was created'),
    date_updated: date('When the service was last changed'),
    url: uri('The absolute URL of this service.'),
    links: Type.Object(
      {
        verification_checks: uri('VerificationCheck'),
        verifications: uri('Verifications'),
        access_tokens: uri('Not implemented (20404)'),
        rate_limits: uri('Not implemented (20404)'),
        messaging_configurations: uri('Not implemented (20404)'),
        entities: uri('Not implemented (20404)'),
        webhooks: uri('Not implemented (20404)'),
      },
      { description: "The service's subresources." },
    ),
  },
  { title: 'TwilioService', description: 'A Verify service (verify.v2.service).' },
);

export const TwilioServicePageSchema = Type.Object(
  {
    services: Type.Array(TwilioServiceSchema),
    meta: Type.Object(
      {
        page: Type.Integer({ minimum: 0 }),
        page_size: Type.Integer({ minimum: 1, maximum: 1000 }),
        first_page_url: uri('The first page.'),
        previous_page_url: nullable(uri('The previous page; null on the first.')),
        url: uri('This page.'),
        next_page_url: nullable(uri('The next page; null on the last.')),
        key: Type.Literal('services', { description: 'The name of the list member.' }),
      },
      { description: "Twilio's paging fields." },
    ),
  },
  { title: 'TwilioServicePage', description: 'One page of Verify services.' },
);

export const TwilioVerificationSchema = Type.Object(
  {
    sid: sid('VE', 'The SID of the verification.'),
    service_sid: SERVICE_SID,
    account_sid: ACCOUNT_SID,
    to: Type.String({ description: 'The E.164 number being verified.' }),
    channel: Type.Literal('sms', { description: 'The channel: only sms.' }),
    status: STATUS,
    valid: Type.Boolean({ description: 'Whether the verification is approved (legacy; use status).' }),
    lookup: Type.Object(
      { carrier: nullable(Type.Object({}, { additionalProperties: true })) },
      { description: 'Lookup information: carrier is always null.' },
    ),
    amount: AMOUNT,
    payee: PAYEE,
    send_code_attempts: Type.Array(
      Type.Object({
        attempt_sid: sid('VL', 'The SID of the send attempt.'),
        channel: Type.String(),
        time: date('When the code was sent'),
      }),
      { description: 'Each send of a code on this verification, the first one included.' },
    ),
    date_created: date('When the verification was created'),
    date_updated: date('When the verification last changed'),
    sna: nullable(Type.Object({}, { additionalProperties: true, description: 'Always null.' })),
    url: uri('The absolute URL of this verification.'),
  },
  { title: 'TwilioVerification', description: 'A verification (verify.v2.service.verification).' },
);

export const TwilioVerificationCheckSchema = Type.Object(
  {
    sid: sid('VE', 'The SID of the checked verification.'),
    service_sid: SERVICE_SID,
    account_sid: ACCOUNT_SID,
    to: Type.String({ description: 'The E.164 number being verified.' }),
    channel: Type.Literal('sms'),
    status: oneOf(['pending', 'approved'], 'approved for the right code; pending for a wrong one.'),
    valid: Type.Boolean({ description: 'Whether the code was right.' }),
    amount: AMOUNT,
    payee: PAYEE,
    date_created: date('When the verification was created'),
    date_updated: date('When the verification last changed'),
    sna_attempts_error_codes: Type.Array(Type.Unknown(), { description: 'Always empty.' }),
  },
  {
    title: 'TwilioVerificationCheck',
    description: 'The outcome of a code check (verify.v2.service.verification_check).',
  },
);

export const TwilioErrorSchema = Type.Object(
  {
    code: Type.Integer({ description: "Twilio's error code." }),
    message: Type.String(),
    more_info: uri("The code's page in Twilio's documentation."),
    status: Type.Integer({ description: 'The HTTP status, repeated.' }),
  },
  { title: 'TwilioError', description: "Twilio's error body." },
);

const PASSED_THROUGH =
  'Twilio parameters not listed here are accepted and ignored. Values are form-encoded text.';

const CreateServiceForm = Type.Object(
  {
    FriendlyName: Type.String({
      minLength: 1,
      maxLength: 255,
      description: "The service's name, shown in the message as {app}.",
    }),
    CodeLength: Type.Optional(
      Type.Integer({
        minimum: 4,
        maximum: 10,
        description: 'Digits in a code; default PHONE_VERIFICATION_TOKEN_LENGTH.',
      }),
    ),
  },
  {
    title: 'CreateServiceRequest',
    additionalProperties: true,
    description: PASSED_THROUGH,
  },
);

const UpdateServiceForm = Type.Object(
  {
    FriendlyName: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    CodeLength: Type.Optional(Type.Integer({ minimum: 4, maximum: 10 })),
  },
  { title: 'UpdateServiceRequest', additionalProperties: true, description: PASSED_THROUGH },
);

const CreateVerificationForm = Type.Object(
  {
    To: Type.String({ description: 'The number to verify; normalised to E.164.' }),
    Channel: Type.String({
      description: 'sms. call, email, whatsapp, sna, auto and rcs answer 60223; anything else 60200.',
    }),
    Locale: Type.Optional(
      Type.String({ description: "The message's language (PHONE_VERIFICATION_MESSAGE_<LANG>)." }),
    ),
    CustomFriendlyName: Type.Optional(
      Type.String({ description: "This message's {app} instead of the service's name." }),
    ),
    Amount: Type.Optional(
      Type.String({ description: 'PSD2 transaction amount: kept and echoed as amount.' }),
    ),
    Payee: Type.Optional(Type.String({ description: 'PSD2 transaction payee: kept and echoed as payee.' })),
  },
  {
    title: 'CreateVerificationRequest',
    additionalProperties: true,
    description: PASSED_THROUGH,
  },
);

const UpdateVerificationForm = Type.Object(
  { Status: oneOf(['canceled', 'approved'], 'Only a pending verification changes.') },
  { title: 'UpdateVerificationRequest', additionalProperties: true },
);

const VerificationCheckForm = Type.Object(
  {
    Code: Type.String({ description: 'The code the user typed.' }),
    To: Type.Optional(Type.String({ description: 'The number whose pending verification is checked.' })),
    VerificationSid: Type.Optional(
      Type.String({ description: 'The verification to check (instead of To).' }),
    ),
    Amount: Type.Optional(
      Type.String({ description: 'PSD2 amount; echoed (default: the one given at the start).' }),
    ),
    Payee: Type.Optional(
      Type.String({ description: 'PSD2 payee; echoed (default: the one given at the start).' }),
    ),
  },
  {
    title: 'VerificationCheckRequest',
    additionalProperties: true,
    description: `Either To or VerificationSid is required. ${PASSED_THROUGH}`,
  },
);

const ServiceParams = Type.Object({ ServiceSid: sid('VA', 'The SID of the Service.') });
const VerificationParams = Type.Object({
  ServiceSid: sid('VA', 'The SID of the Service.'),
  Sid: sid('VE', 'The SID of the verification.'),
});

/** Error answers: status → [Twilio code, example message] pairs. */
type Errors = Record<number, [number, string][]>;

const NOT_FOUND: [number, string] = [
  20404,
  'The requested resource /v2/Services/VAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa was not found',
];
const UNAUTHORIZED: Errors = { 401: [[20003, 'Authenticate']] };

function errorResponses(errors: Errors): Record<number, unknown> {
  const responses: Record<number, unknown> = {};
  for (const [status, codes] of Object.entries(errors)) {
    responses[Number(status)] = {
      ...TwilioErrorSchema,
      'x-response-description': codes.map(([code, message]) => `${code}: ${message}`).join('; '),
      'x-examples': Object.fromEntries(
        codes.map(([code, message]) => [
          String(code),
          { value: new TwilioError(Number(status), code, message).body },
        ]),
      ),
    };
  }
  return responses;
}

const consumes = ['application/x-www-form-urlencoded'];
const withExample = (schema: TSchema, description: string, example: unknown) => ({
  ...schema,
  'x-response-description': description,
  examples: [example],
});

const EXAMPLE_WIRE: Wire = {
  origin: 'https://verify.example.com',
  accountSid: `AC${'a'.repeat(32)}`,
};
const EXAMPLE_SERVICE = serviceJson(
  EXAMPLE_WIRE,
  {
    id: `VA${'a'.repeat(32)}`,
    name: 'Acme Shop',
    settings: { codeLength: 6 },
    createdAt: new Date('2026-01-01T12:00:00Z'),
  },
  6,
);
const EXAMPLE_RECORD = {
  id: '01a21301-9300-7c3a-9f1e-5b2d8c4a7e61',
  serviceId: `VA${'a'.repeat(32)}`,
  phoneNumber: '+14155550100',
  status: 'pending' as const,
  failedAttempts: 0,
  approvals: 0,
  createdAt: new Date('2026-01-01T12:00:00Z'),
  expiresAt: new Date('2026-01-01T13:00:00Z'),
  verifiedAt: null,
  locale: null,
  amount: '€39.99',
  payee: 'Acme Shop',
  updatedAt: new Date('2026-01-01T12:00:00Z'),
};
const EXAMPLE_SENDS: SendRecord[] = [
  {
    id: '01a21301-9300-7c3a-9f1e-5b2d8c4a7e62',
    channel: 'sms',
    backend: 'twilio',
    status: 'sent',
    providerMessageId: 'SM0123456789abcdef0123456789abcdef',
    errorCode: null,
    createdAt: EXAMPLE_RECORD.createdAt,
    updatedAt: EXAMPLE_RECORD.createdAt,
  },
];
const EXAMPLE_VERIFICATION = verificationJson(
  EXAMPLE_WIRE,
  EXAMPLE_RECORD,
  EXAMPLE_SENDS,
  EXAMPLE_RECORD.createdAt,
);
const EXAMPLE_CHECK = checkJson(
  EXAMPLE_WIRE,
  { ...EXAMPLE_RECORD, status: 'approved', approvals: 1 },
  'approved',
  { amount: null, payee: null },
);

const verificationAnswer = (status: string) =>
  withExample(TwilioVerificationSchema, status, { ...EXAMPLE_VERIFICATION });

/** The OpenAPI description of each /v2 operation, by the route it belongs to. */
export const TWILIO_DOCS: Record<
  | 'createService'
  | 'listServices'
  | 'fetchService'
  | 'updateService'
  | 'deleteService'
  | 'createVerification'
  | 'fetchVerification'
  | 'updateVerification'
  | 'createCheck',
  DocumentedSchema
> = {
  createService: {
    consumes,
    body: CreateServiceForm,
    response: {
      201: withExample(TwilioServiceSchema, 'Created', EXAMPLE_SERVICE),
      ...errorResponses({ 400: [[60200, 'Invalid parameter: FriendlyName']], ...UNAUTHORIZED }),
    },
  },
  listServices: {
    querystring: Type.Object({
      PageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
      Page: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    }),
    response: {
      200: withExample(TwilioServicePageSchema, 'OK', {
        services: [EXAMPLE_SERVICE],
        meta: {
          page: 0,
          page_size: 50,
          first_page_url: `${EXAMPLE_WIRE.origin}/v2/Services?PageSize=50&Page=0`,
          previous_page_url: null,
          url: `${EXAMPLE_WIRE.origin}/v2/Services?PageSize=50&Page=0`,
          next_page_url: null,
          key: 'services',
        },
      }),
      ...errorResponses(UNAUTHORIZED),
    },
  },
  fetchService: {
    params: ServiceParams,
    response: {
      200: withExample(TwilioServiceSchema, 'OK', EXAMPLE_SERVICE),
      ...errorResponses({ ...UNAUTHORIZED, 404: [NOT_FOUND] }),
    },
  },
  updateService: {
    consumes,
    params: ServiceParams,
    body: UpdateServiceForm,
    response: {
      200: withExample(TwilioServiceSchema, 'OK', EXAMPLE_SERVICE),
      ...errorResponses({
        400: [[60200, 'Invalid parameter: CodeLength']],
        ...UNAUTHORIZED,
        404: [NOT_FOUND],
      }),
    },
  },
  deleteService: {
    params: ServiceParams,
    response: {
      204: { type: 'null', description: 'Deleted, with its verifications' },
      ...errorResponses({ ...UNAUTHORIZED, 404: [NOT_FOUND] }),
    },
  },
  createVerification: {
    consumes,
    params: ServiceParams,
    body: CreateVerificationForm,
    response: {
      201: verificationAnswer('Created (or, for a number with a pending verification, re-sent on it)'),
      ...errorResponses({
        400: [
          [60200, 'Invalid parameter: To'],
          [60223, "Delivery channel disabled: 'CALL'"],
        ],
        ...UNAUTHORIZED,
        403: [
          [60605, 'Verification delivery attempt blocked'],
          [60410, 'Verification delivery attempt blocked'],
        ],
        404: [NOT_FOUND],
        429: [[60203, 'Max send attempts reached']],
        502: [[60200, 'The SMS backend could not send the message']],
        503: [[20500, 'Service unavailable']],
      }),
    },
  },
  fetchVerification: {
    params: VerificationParams,
    response: {
      200: verificationAnswer('OK'),
      ...errorResponses({ ...UNAUTHORIZED, 404: [NOT_FOUND] }),
    },
  },
  updateVerification: {
    consumes,
    params: VerificationParams,
    body: UpdateVerificationForm,
    response: {
      200: verificationAnswer('OK'),
      ...errorResponses({
        400: [[60200, 'Invalid parameter: Status']],
        ...UNAUTHORIZED,
        404: [NOT_FOUND],
      }),
    },
  },
  createCheck: {
    consumes,
    params: ServiceParams,
    body: VerificationCheckForm,
    response: {
      200: withExample(
        TwilioVerificationCheckSchema,
        'OK (a wrong code is pending, valid false)',
        EXAMPLE_CHECK,
      ),
      ...errorResponses({
        400: [[60200, 'Invalid parameter: Code']],
        ...UNAUTHORIZED,
        404: [NOT_FOUND],
        429: [[60202, 'Max check attempts reached']],
      }),
    },
  },
};
