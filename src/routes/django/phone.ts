// django-phone-verify's two routes, with its bodies and error strings (phone_verify/api.py,
// serializers.py, Django REST framework's field errors): POST /api/phone/register and
// /api/phone/verify, with or without the trailing slash, in JSON, form or multipart bodies.
// Sessions are /v1's (the default service).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { REGISTER_DOCS, VERIFY_DOCS } from '../../schemas/django-openapi.js';
import { openapiOnly } from '../../schemas/openapi-only.js';
import { normalizePhoneNumber } from '../../verification/phone.js';
import { parseMultipartFields } from './multipart.js';

type Fields = Record<string, unknown>;

/** A DRF validation answer: field name → its errors. */
class DrfErrors extends Error {
  constructor(readonly errors: Record<string, string[]>) {
    super('validation failed');
  }
}

const NON_FIELD: Record<string, string> = {
  security_code_invalid: 'Security code is not valid',
  security_code_expired: 'Security code has expired',
  security_code_already_verified: 'Security code is already verified',
  too_many_attempts: 'Too many failed verification attempts. Please request a new code.',
};

function fieldsOf(request: FastifyRequest): Fields {
  const body = request.body;
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Fields) : {};
}

/** DRF's CharField: required, a string (numbers are taken as text), not blank. */
function charFields(body: Fields, names: string[]): Record<string, string> {
  const errors: Record<string, string[]> = {};
  const values: Record<string, string> = {};
  for (const name of names) {
    const raw = body[name];
    if (raw === undefined) errors[name] = ['This field is required.'];
    else if (raw === null) errors[name] = ['This field may not be null.'];
    else if (typeof raw !== 'string' && typeof raw !== 'number') errors[name] = ['Not a valid string.'];
    else if (String(raw).trim() === '') errors[name] = ['This field may not be blank.'];
    else values[name] = String(raw).trim();
  }
  if (values.phone_number !== undefined) {
    try {
      values.phone_number = normalizePhoneNumber(values.phone_number);
    } catch {
      errors.phone_number = ['Enter a valid phone number.'];
    }
  }
  if (Object.keys(errors).length > 0) throw new DrfErrors(errors);
  return values;
}

function answerError(error: unknown, reply: FastifyReply): FastifyReply | undefined {
  if (error instanceof DrfErrors) return reply.code(400).send(error.errors);
  if (isAppError(error) && NON_FIELD[error.code]) {
    return reply.code(400).send({ non_field_errors: [NON_FIELD[error.code]] });
  }
  if (isAppError(error) && error.code === 'invalid_phone_number') {
    return reply.code(400).send({ phone_number: ['Enter a valid phone number.'] });
  }
  return undefined;
}

export default async function djangoRoutes(fastify: FastifyInstance): Promise<void> {
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
  );
  fastify.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer', bodyLimit: 64 * 1024 },
    (request, body, done) => {
      try {
        done(null, parseMultipartFields(String(request.headers['content-type']), body as Buffer));
      } catch (error) {
        done(Object.assign(error as Error, { statusCode: 400 }), undefined);
      }
    },
  );

  const tags = ['django-phone-verify'];
  const register = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const { phone_number } = charFields(fieldsOf(request), ['phone_number']);
      const started = await fastify.verifications.start({
        phoneNumber: phone_number!,
        acceptLanguage: request.headers['accept-language'],
      });
      return reply.code(200).send({ session_token: started.sessionToken });
    } catch (error) {
      const answered = answerError(error, reply);
      if (answered) return answered;
      throw error;
    }
  };
  const verify = async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const values = charFields(fieldsOf(request), ['phone_number', 'session_token', 'security_code']);
      await fastify.verifications.verify({
        phoneNumber: values.phone_number!,
        sessionToken: values.session_token!,
        securityCode: values.security_code!,
      });
      return reply.code(200).send({ message: 'Security code is valid.' });
    } catch (error) {
      const answered = answerError(error, reply);
      if (answered) return answered;
      throw error;
    }
  };
  for (const path of ['/register', '/register/']) {
    fastify.post(
      path,
      {
        schema: { summary: 'Send a security code (django-phone-verify)', tags },
        config: openapiOnly(REGISTER_DOCS),
      },
      register,
    );
  }
  for (const path of ['/verify', '/verify/']) {
    fastify.post(
      path,
      {
        schema: { summary: 'Check a security code (django-phone-verify)', tags },
        config: openapiOnly(VERIFY_DOCS),
      },
      verify,
    );
  }
}
