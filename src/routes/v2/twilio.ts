// Twilio Verify v2's subset under /v2 (docs/migrating.md): Services, Verifications and
// VerificationCheck, form-encoded in, Twilio's JSON out, HTTP Basic auth with an API key as the
// password. The verification rules are the domain's; this file only speaks Twilio's wire format.
import { hash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isAppError } from '../../errors.js';
import { openapiOnly } from '../../schemas/openapi-only.js';
import { TWILIO_DOCS } from '../../schemas/twilio-openapi.js';
import {
  checkJson,
  invalidParameter,
  isServiceSid,
  notFound,
  SID,
  serviceJson,
  TwilioError,
  twilioDate,
  uuidOf,
  verificationJson,
  type Wire,
} from '../../schemas/twilio-wire.js';
import { normalizePhoneNumber } from '../../verification/phone.js';
import { secretEquals } from '../../verification/secrets.js';
import type { StartedVerification } from '../../verification/service.js';
import type { Psd2Transaction, SendRecord, VerificationRecord } from '../../verification/store.js';
import type { Tenant } from '../../verification/tenants.js';

type Form = Record<string, string | undefined>;

/** Twilio's limit on sends to one number: 5 in 10 minutes (then 60203). */
const MAX_SENDS = 5;
const SEND_WINDOW_MS = 10 * 60_000;
const OPEN_ACCOUNT = `AC${'0'.repeat(32)}`;

declare module 'fastify' {
  interface FastifyRequest {
    twilioAccount?: string;
  }
}

/** The account SID of a valid Basic credential, or a 401 20003. */
function authenticate(keys: readonly string[], header: string | undefined): string {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header ?? '');
  const decoded = match ? Buffer.from(match[1]!, 'base64').toString('utf8') : undefined;
  const colon = decoded?.indexOf(':') ?? -1;
  const user = decoded && colon >= 0 ? decoded.slice(0, colon) : undefined;
  const password = decoded && colon >= 0 ? decoded.slice(colon + 1) : '';
  if (keys.length === 0) return user && /^AC[0-9a-fA-F]{32}$/.test(user) ? user : OPEN_ACCOUNT;
  let known = false;
  for (const key of keys) known = secretEquals(password, key) || known;
  if (!user || !/^AC[0-9a-fA-F]{32}$/.test(user) || !known) {
    throw new TwilioError(401, 20003, 'Authenticate', {
      'www-authenticate': 'Basic realm="Twilio API"',
    });
  }
  return user;
}

function wireOf(request: FastifyRequest): Wire {
  const host = request.headers.host ?? 'localhost';
  return { origin: `${request.protocol}://${host}`, accountSid: request.twilioAccount ?? OPEN_ACCOUNT };
}

function formOf(request: FastifyRequest): Form {
  const body = request.body;
  return body && typeof body === 'object' ? (body as Form) : {};
}

/** Twilio's answer for an error of ours (the abuse protections, the backend, the database). */
function twilioErrorFor(error: unknown): TwilioError {
  if (error instanceof TwilioError) return error;
  const code = (error as { code?: unknown }).code;
  const headers = ((error as { headers?: Record<string, string> }).headers ?? {}) as Record<string, string>;
  const status = (error as { statusCode?: unknown }).statusCode;
  if (isAppError(error) || typeof code === 'string') {
    switch (code) {
      case 'rate_limited':
        return new TwilioError(429, 60203, 'Max send attempts reached', headers);
      case 'destination_not_allowed':
        return new TwilioError(403, 60605, 'Verification delivery attempt blocked', headers);
      case 'destination_blocked':
        return new TwilioError(403, 60410, 'Verification delivery attempt blocked', headers);
      case 'invalid_phone_number':
        return invalidParameter('To');
      case 'too_many_attempts':
        return new TwilioError(429, 60202, 'Max check attempts reached');
      case 'backend_error':
        return new TwilioError(502, 60200, 'The SMS backend could not send the message');
      case 'service_unavailable':
        return new TwilioError(503, 20500, 'Service unavailable');
      case 'payload_too_large':
        return new TwilioError(413, 20001, 'Payload too large');
      case 'unsupported_media_type':
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return new TwilioError(415, 20001, 'Unsupported media type');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return new TwilioError(413, 20001, 'Payload too large');
      default:
    }
  }
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new TwilioError(status, status === 404 ? 20404 : 20001, (error as Error).message);
  }
  return new TwilioError(500, 20500, 'Internal Server Error');
}

function sendTwilioError(reply: FastifyReply, error: TwilioError): FastifyReply {
  return reply
    .code(error.status)
    .headers(error.headers)
    .type('application/json; charset=utf-8')
    .send(error.body);
}

function codeLengthOf(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const length = Number(value);
  if (!/^\d+$/.test(value) || length < 4 || length > 10) throw invalidParameter('CodeLength');
  return length;
}

function friendlyNameOf(value: string | undefined): string {
  if (value === undefined || value.trim() === '' || value.length > 255)
    throw invalidParameter('FriendlyName');
  return value;
}

function psd2Of(form: Form): Psd2Transaction {
  return { amount: form.Amount ?? null, payee: form.Payee ?? null };
}

/**
 * A new session as its start wrote it, for the answer: every field Twilio's resource shows is what
 * a read-back would give (the chosen message locale, which it does not show, is left out).
 */
function newSession(
  started: StartedVerification,
  serviceId: string,
  psd2: Psd2Transaction,
): { record: VerificationRecord; sends: SendRecord[] } {
  return {
    record: {
      id: started.id,
      serviceId,
      phoneNumber: started.phoneNumber,
      status: 'pending',
      failedAttempts: 0,
      approvals: 0,
      createdAt: started.createdAt,
      expiresAt: started.expiresAt,
      verifiedAt: null,
      locale: null,
      amount: psd2.amount,
      payee: psd2.payee,
      updatedAt: started.createdAt,
    },
    sends: started.sends,
  };
}

export default async function twilioRoutes(fastify: FastifyInstance): Promise<void> {
  const { config } = fastify;
  // Twilio's SDKs send form bodies; this scope alone parses them.
  fastify.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_request, body, done) => {
      const form: Form = {};
      for (const [key, value] of new URLSearchParams(String(body))) form[key] ??= value;
      done(null, form);
    },
  );
  fastify.setErrorHandler((error, request, reply) => {
    const twilio = twilioErrorFor(error);
    if (twilio.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendTwilioError(reply, twilio);
  });
  fastify.setNotFoundHandler((request, reply) =>
    sendTwilioError(reply, notFound(request.url.split('?')[0] ?? '')),
  );
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header('cache-control', 'no-store');
    request.twilioAccount = authenticate(config.apiKeys, request.headers.authorization);
  });

  async function tenantOf(sid: string, path: string): Promise<Tenant> {
    const tenant = isServiceSid(sid) ? await fastify.tenants.find(sid) : null;
    if (!tenant) throw notFound(path);
    return tenant;
  }

  const tags = ['twilio-verify-v2'];
  const codeLengthFor = (tenant: Tenant) => tenant.settings.codeLength ?? config.tokenLength;

  fastify.post(
    '/Services',
    { schema: { summary: 'Create a Verify service', tags }, config: openapiOnly(TWILIO_DOCS.createService) },
    async (request, reply) => {
      const form = formOf(request);
      const now = new Date();
      const tenant = await fastify.tenants.insert({
        id: `${SID.service}${randomBytes(16).toString('hex')}`,
        name: friendlyNameOf(form.FriendlyName),
        settings: {
          codeLength: codeLengthOf(form.CodeLength, config.tokenLength),
          updatedAt: twilioDate(now),
        },
        createdAt: now,
      });
      return reply.code(201).send(serviceJson(wireOf(request), tenant, codeLengthFor(tenant)));
    },
  );

  fastify.get(
    '/Services',
    { schema: { summary: 'List Verify services', tags }, config: openapiOnly(TWILIO_DOCS.listServices) },
    async (request) => {
      const query = request.query as Record<string, string | undefined>;
      const pageSize = Math.min(1000, Math.max(1, Number(query.PageSize ?? 50) || 50));
      const page = Math.max(0, Number(query.Page ?? 0) || 0);
      const rows = await fastify.tenants.list(pageSize + 1, page * pageSize);
      const wire = wireOf(request);
      const pageUrl = (n: number) => `${wire.origin}/v2/Services?PageSize=${pageSize}&Page=${n}`;
      return {
        services: rows.slice(0, pageSize).map((tenant) => serviceJson(wire, tenant, codeLengthFor(tenant))),
        meta: {
          page,
          page_size: pageSize,
          first_page_url: pageUrl(0),
          previous_page_url: page > 0 ? pageUrl(page - 1) : null,
          url: pageUrl(page),
          next_page_url: rows.length > pageSize ? pageUrl(page + 1) : null,
          key: 'services',
        },
      };
    },
  );

  fastify.get(
    '/Services/:ServiceSid',
    { schema: { summary: 'Fetch a Verify service', tags }, config: openapiOnly(TWILIO_DOCS.fetchService) },
    async (request) => {
      const { ServiceSid } = request.params as { ServiceSid: string };
      const tenant = await tenantOf(ServiceSid, request.url);
      return serviceJson(wireOf(request), tenant, codeLengthFor(tenant));
    },
  );

  fastify.post(
    '/Services/:ServiceSid',
    { schema: { summary: 'Update a Verify service', tags }, config: openapiOnly(TWILIO_DOCS.updateService) },
    async (request) => {
      const { ServiceSid } = request.params as { ServiceSid: string };
      const tenant = await tenantOf(ServiceSid, request.url);
      const form = formOf(request);
      const updated = await fastify.tenants.update({
        ...tenant,
        name: form.FriendlyName === undefined ? tenant.name : friendlyNameOf(form.FriendlyName),
        settings: {
          ...tenant.settings,
          codeLength: codeLengthOf(form.CodeLength, codeLengthFor(tenant)),
          updatedAt: twilioDate(new Date()),
        },
      });
      if (!updated) throw notFound(request.url);
      return serviceJson(wireOf(request), updated, codeLengthFor(updated));
    },
  );

  fastify.delete(
    '/Services/:ServiceSid',
    {
      schema: { summary: 'Delete a Verify service and its verifications', tags },
      config: openapiOnly(TWILIO_DOCS.deleteService),
    },
    async (request, reply) => {
      const { ServiceSid } = request.params as { ServiceSid: string };
      if (!isServiceSid(ServiceSid) || !(await fastify.tenants.delete(ServiceSid)))
        throw notFound(request.url);
      return reply.code(204).send();
    },
  );

  fastify.post(
    '/Services/:ServiceSid/Verifications',
    {
      schema: { summary: 'Start a verification (or re-send its code)', tags },
      config: openapiOnly(TWILIO_DOCS.createVerification),
    },
    async (request, reply) => {
      const { ServiceSid } = request.params as { ServiceSid: string };
      const tenant = await tenantOf(ServiceSid, request.url);
      const form = formOf(request);
      if (form.To === undefined || form.To === '') throw invalidParameter('To');
      if (form.Channel === undefined || form.Channel === '') throw invalidParameter('Channel');
      if (['call', 'email', 'whatsapp', 'sna', 'auto', 'rcs'].includes(form.Channel)) {
        throw new TwilioError(400, 60223, `Delivery channel disabled: '${form.Channel.toUpperCase()}'`);
      }
      if (form.Channel !== 'sms') throw invalidParameter('Channel');
      let to: string;
      try {
        to = normalizePhoneNumber(form.To);
      } catch {
        throw invalidParameter('To');
      }
      const now = Date.now();
      // Twilio's own limit on sends to one number, beside the deployment's abuse protections.
      const key = `v2-sends:${tenant.id}:${hash('sha256', to, 'hex')}`;
      const { current, ttlMs } = await fastify.rateCounter.hit(key, SEND_WINDOW_MS);
      if (current > MAX_SENDS) {
        throw new TwilioError(429, 60203, 'Max send attempts reached', {
          'retry-after': String(Math.max(1, Math.ceil(ttlMs / 1000))),
        });
      }
      const live = await fastify.store.findLive(tenant.id, to, new Date(now));
      const psd2 = psd2Of(form);
      const started = await fastify.verifications.start({
        phoneNumber: to,
        locale: form.Locale,
        acceptLanguage: request.headers['accept-language'],
        serviceId: tenant.id,
        appName: form.CustomFriendlyName || tenant.name,
        codeLength: codeLengthFor(tenant),
        checkedByNumber: true,
        resendId: live?.status === 'pending' ? live.id : undefined,
        psd2,
      });
      // A new session is answered from what the start wrote; a re-send's from the session it kept
      // (its earlier sends and its Amount/Payee).
      const found =
        live?.status === 'pending'
          ? await fastify.verifications.record(started.id)
          : newSession(started, tenant.id, psd2);
      if (!found) throw notFound(request.url);
      return reply.code(201).send(verificationJson(wireOf(request), found.record, found.sends, new Date()));
    },
  );

  async function verificationOf(request: FastifyRequest) {
    const { ServiceSid, Sid } = request.params as { ServiceSid: string; Sid: string };
    const tenant = await tenantOf(ServiceSid, request.url);
    const id = uuidOf(SID.verification, Sid);
    const found = id ? await fastify.verifications.record(id) : null;
    if (!found || found.record.serviceId !== tenant.id) throw notFound(request.url);
    return found;
  }

  fastify.get(
    '/Services/:ServiceSid/Verifications/:Sid',
    { schema: { summary: 'Fetch a verification', tags }, config: openapiOnly(TWILIO_DOCS.fetchVerification) },
    async (request) => {
      const found = await verificationOf(request);
      return verificationJson(wireOf(request), found.record, found.sends, new Date());
    },
  );

  fastify.post(
    '/Services/:ServiceSid/Verifications/:Sid',
    {
      schema: { summary: 'Cancel or approve a verification', tags },
      config: openapiOnly(TWILIO_DOCS.updateVerification),
    },
    async (request) => {
      const found = await verificationOf(request);
      const status = formOf(request).Status;
      if (status !== 'canceled' && status !== 'approved') throw invalidParameter('Status');
      const changed =
        status === 'canceled'
          ? await fastify.verifications.cancel(found.record.id)
          : await fastify.verifications.approve(found.record.id);
      // Only a pending verification changes (Twilio: 20404 for one that is no longer pending).
      if (!changed || (changed.status !== status && found.record.status !== status))
        throw notFound(request.url);
      return verificationJson(wireOf(request), changed, found.sends, new Date());
    },
  );

  fastify.post(
    '/Services/:ServiceSid/VerificationCheck',
    { schema: { summary: 'Check a code', tags }, config: openapiOnly(TWILIO_DOCS.createCheck) },
    async (request) => {
      const { ServiceSid } = request.params as { ServiceSid: string };
      const tenant = await tenantOf(ServiceSid, request.url);
      const form = formOf(request);
      if (form.Code === undefined || form.Code === '') throw invalidParameter('Code');
      let target: { phoneNumber: string } | { id: string };
      if (form.VerificationSid !== undefined) {
        const id = uuidOf(SID.verification, form.VerificationSid);
        if (!id) throw notFound(request.url);
        target = { id };
      } else if (form.To !== undefined && form.To !== '') {
        try {
          target = { phoneNumber: normalizePhoneNumber(form.To) };
        } catch {
          throw invalidParameter('To');
        }
      } else {
        throw new TwilioError(
          400,
          60200,
          'Invalid parameter: Either a To or VerificationSid must be specified',
        );
      }
      const checked = await fastify.verifications.checkPending(tenant.id, target, form.Code);
      if (checked.outcome === 'none') throw notFound(request.url);
      if (checked.outcome === 'locked') throw new TwilioError(429, 60202, 'Max check attempts reached');
      const status = checked.outcome === 'approved' ? 'approved' : 'pending';
      return checkJson(wireOf(request), checked.record, status, psd2Of(form));
    },
  );
}
