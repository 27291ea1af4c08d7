// POST /v1/callbacks/twilio and GET|POST /v1/callbacks/vonage: the providers' delivery receipts.
// No API key (providers cannot send one): each receipt must instead carry its provider's signature,
// made with a configured backend's secret, or it is 403 invalid_signature and changes nothing. A
// genuine receipt for a message this service does not know is 200 and ignored: providers retry
// anything else.
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type FinalStatus,
  takesTwilioCallbacks,
  takesVonageReceipts,
  twilioFinalStatus,
  vonageFinalStatus,
} from '../../backends/receipts.js';
import { CALLBACK_PATHS } from '../../backends/registry.js';
import { InvalidSignature } from '../../errors.js';
import type { NamedBackend } from '../../plugins/app/backend.js';
import { problemResponses } from '../../schemas/problem.js';

const ReceiptAnswer = Type.Object({
  outcome: Type.Union([Type.Literal('recorded'), Type.Literal('ignored')], {
    description:
      'recorded: a send took this status; ignored: an unknown message, a status that is not final, or one already recorded',
  }),
});

const responses = {
  200: ReceiptAnswer,
  ...problemResponses('invalid_signature', 'payload_too_large', 'unsupported_media_type', 'internal_error'),
};

type Params = Record<string, string>;

/** Query and body fields as strings (the first of a repeated key); nested values are left out. */
function fieldsOf(...sources: unknown[]): Params {
  const fields: Params = {};
  for (const source of sources) {
    if (!source || typeof source !== 'object') continue;
    for (const [key, value] of Object.entries(source as Record<string, unknown>)) {
      const first = Array.isArray(value) ? value[0] : value;
      if (typeof first === 'string' || typeof first === 'number' || typeof first === 'boolean') {
        fields[key] = String(first);
      }
    }
  }
  return fields;
}

/** An error code worth keeping: Twilio's ErrorCode, Vonage's err-code, absent or "0" is none. */
function errorCodeOf(value: string | undefined): string | null {
  const code = value?.trim();
  return code && code !== '0' ? code.slice(0, 64) : null;
}

export default async function callbacksRoutes(fastify: FastifyInstance): Promise<void> {
  const { publicUrl } = fastify.config;
  const backends: NamedBackend[] = fastify.configuredBackends;
  // The configured backends that can check each provider's receipts (a fallback's too).
  const twilioBackends = backends.flatMap(({ name, backend }) =>
    takesTwilioCallbacks(backend) ? [{ name, backend }] : [],
  );
  const vonageBackends = backends.flatMap(({ name, backend }) =>
    takesVonageReceipts(backend) ? [{ name, backend }] : [],
  );

  // Twilio posts form bodies, and Vonage may; this scope alone parses them.
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => {
      const form: Params = {};
      for (const [key, value] of new URLSearchParams(String(body))) form[key] ??= value;
      done(null, form);
    },
  );

  const record = async (
    names: string[],
    messageId: string | undefined,
    status: FinalStatus | undefined,
    errorCode: string | null,
  ) => {
    if (!messageId || !status) return { outcome: 'ignored' as const };
    const changed = await fastify.verifications.recordDelivery({
      backends: names,
      providerMessageId: messageId.slice(0, 255),
      status,
      errorCode,
    });
    return { outcome: changed ? ('recorded' as const) : ('ignored' as const) };
  };

  fastify.post(
    '/callbacks/twilio',
    {
      schema: {
        summary: 'Twilio status callback (signed with X-Twilio-Signature)',
        description:
          "Twilio calls it for each message when PUBLIC_URL is set. The signature is checked with the twilio package against every configured Twilio backend's SECRET (auth token).",
        tags: ['delivery receipts'],
        response: responses,
      },
    },
    async (request) => {
      const signature = request.headers['x-twilio-signature'];
      const params = fieldsOf(request.body);
      // Twilio signs the URL it called: PUBLIC_URL's, with this request's query string.
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?')) : '';
      const url = publicUrl ? `${publicUrl}${CALLBACK_PATHS.twilio}${query}` : undefined;
      const signedBy =
        typeof signature === 'string' && signature !== '' && url
          ? twilioBackends.filter(({ backend }) => backend.signedStatusCallback(signature, url, params))
          : [];
      if (signedBy.length === 0) {
        throw new InvalidSignature(
          url
            ? 'The callback carries no valid X-Twilio-Signature for a configured Twilio backend; nothing was changed.'
            : 'PUBLIC_URL is not set, so no Twilio signature can be checked; nothing was changed.',
        );
      }
      return record(
        signedBy.map(({ name }) => name),
        params.MessageSid ?? params.SmsSid,
        twilioFinalStatus(params.MessageStatus ?? params.SmsStatus),
        errorCodeOf(params.ErrorCode),
      );
    },
  );

  const vonageReceipt = async (request: FastifyRequest) => {
    const params = fieldsOf(request.query, request.body);
    const signedBy = vonageBackends.filter(({ backend }) => backend.signedDeliveryReceipt(params));
    if (signedBy.length === 0) {
      throw new InvalidSignature(
        'The delivery receipt carries no valid sig for a configured Vonage backend with SIGNATURE_SECRET; nothing was changed.',
      );
    }
    return record(
      signedBy.map(({ name }) => name),
      params.messageId,
      vonageFinalStatus(params.status),
      errorCodeOf(params['err-code']),
    );
  };
  const vonageSchema = {
    summary: 'Vonage delivery receipt (signed webhooks: the sig parameter)',
    description:
      'Vonage sends DLRs as GET, POST form or POST JSON. Accepted only with a valid sig for a configured Vonage backend that has SIGNATURE_SECRET; without one every receipt is 403.',
    tags: ['delivery receipts'],
    response: responses,
  };
  fastify.get('/callbacks/vonage', { schema: vonageSchema }, vonageReceipt);
  fastify.post('/callbacks/vonage', { schema: vonageSchema }, vonageReceipt);
}
