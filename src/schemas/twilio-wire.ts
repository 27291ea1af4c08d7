// Twilio Verify v2's wire format: SIDs, dates, error bodies and the JSON of its resources, as
// twilio-oai's twilio_verify_v2.json defines them (fields we have no value for get Twilio's defaults).

import type { Psd2Transaction, SendRecord, VerificationRecord } from '../verification/store.js';
import type { Tenant } from '../verification/tenants.js';

export const SID = { service: 'VA', verification: 'VE', attempt: 'VL', check: 'VE' } as const;
const UUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/;

/** VE… from a session id (a UUID without its dashes). */
export function sidOf(prefix: string, uuid: string): string {
  return `${prefix}${uuid.replaceAll('-', '')}`;
}

/** The session id of a VE… (or VL…) SID, or undefined for anything else. */
export function uuidOf(prefix: string, sid: string): string | undefined {
  const match = new RegExp(`^${prefix}([0-9a-f]{32})$`).exec(sid);
  if (!match) return undefined;
  const hex = match[1]!;
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return UUID.test(uuid) ? uuid : undefined;
}

export function isServiceSid(sid: string): boolean {
  return /^VA[0-9a-f]{32}$/.test(sid);
}

/** Twilio's dates: ISO 8601 in UTC without fractions (2015-07-30T20:00:00Z). */
export function twilioDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface TwilioErrorBody {
  code: number;
  message: string;
  more_info: string;
  status: number;
}

/** An error answered in Twilio's JSON. */
export class TwilioError extends Error {
  constructor(
    readonly status: number,
    readonly twilioCode: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'TwilioError';
  }

  get body(): TwilioErrorBody {
    return {
      code: this.twilioCode,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.twilioCode}`,
      status: this.status,
    };
  }
}

export const invalidParameter = (name: string) => new TwilioError(400, 60200, `Invalid parameter: ${name}`);
export const notFound = (path: string) =>
  new TwilioError(404, 20404, `The requested resource ${path} was not found`);

export interface Wire {
  /** the request's origin, for absolute urls */
  origin: string;
  accountSid: string;
}

export function serviceJson(wire: Wire, tenant: Tenant, codeLength: number) {
  const url = `${wire.origin}/v2/Services/${tenant.id}`;
  return {
    sid: tenant.id,
    account_sid: wire.accountSid,
    friendly_name: tenant.name,
    code_length: codeLength,
    lookup_enabled: false,
    psd2_enabled: false,
    skip_sms_to_landlines: false,
    dtmf_input_required: false,
    tts_name: null,
    do_not_share_warning_enabled: false,
    custom_code_enabled: false,
    push: { include_date: false, apn_credential_sid: null, fcm_credential_sid: null },
    totp: { issuer: null, time_step: 30, code_length: 6, skew: 1 },
    default_template_sid: null,
    whatsapp: { msg_service_sid: null, from: null },
    passkeys: null,
    verify_event_subscription_enabled: false,
    date_created: twilioDate(tenant.createdAt),
    date_updated: tenant.settings.updatedAt ?? twilioDate(tenant.createdAt),
    url,
    links: {
      verification_checks: `${url}/VerificationCheck`,
      verifications: `${url}/Verifications`,
      access_tokens: `${url}/AccessTokens`,
      rate_limits: `${url}/RateLimits`,
      messaging_configurations: `${url}/MessagingConfigurations`,
      entities: `${url}/Entities`,
      webhooks: `${url}/Webhooks`,
    },
  };
}

/** Twilio's statuses: pending, approved, canceled, max_attempts_reached, deleted, failed, expired. */
export function twilioStatus(record: VerificationRecord, now: Date): string {
  if (record.status === 'locked') return 'max_attempts_reached';
  if (record.status === 'pending' && record.expiresAt.getTime() <= now.getTime()) return 'expired';
  return record.status;
}

export function verificationJson(wire: Wire, record: VerificationRecord, sends: SendRecord[], now: Date) {
  const sid = sidOf(SID.verification, record.id);
  const status = twilioStatus(record, now);
  return {
    sid,
    service_sid: record.serviceId,
    account_sid: wire.accountSid,
    to: record.phoneNumber,
    channel: 'sms',
    status,
    valid: status === 'approved',
    lookup: { carrier: null },
    amount: record.amount,
    payee: record.payee,
    send_code_attempts: sends.map((send) => ({
      attempt_sid: sidOf(SID.attempt, send.id),
      channel: send.channel,
      time: twilioDate(send.createdAt),
    })),
    date_created: twilioDate(record.createdAt),
    date_updated: twilioDate(record.updatedAt),
    sna: null,
    url: `${wire.origin}/v2/Services/${record.serviceId}/Verifications/${sid}`,
  };
}

/** A check's answer; Amount and Payee given with the check are echoed where the start gave none. */
export function checkJson(wire: Wire, record: VerificationRecord, status: string, psd2: Psd2Transaction) {
  return {
    sid: sidOf(SID.verification, record.id),
    service_sid: record.serviceId,
    account_sid: wire.accountSid,
    to: record.phoneNumber,
    channel: 'sms',
    status,
    valid: status === 'approved',
    amount: record.amount ?? psd2.amount,
    payee: record.payee ?? psd2.payee,
    date_created: twilioDate(record.createdAt),
    date_updated: twilioDate(record.updatedAt),
    sna_attempts_error_codes: [],
  };
}
