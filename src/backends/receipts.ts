// What the delivery-receipt routes need of a backend: a way to tell a genuine receipt from a forged
// one, with the backend's own secret. The Twilio and Vonage backends have it; the routes find them
// among the configured backends by these methods, so the provider SDKs are not loaded for a check.
import type { BaseBackend } from './base.js';

/** A backend that validates Twilio status callbacks (X-Twilio-Signature with its auth token). */
export interface TwilioStatusCallbacks {
  signedStatusCallback(signature: string, url: string, params: Record<string, string>): boolean;
}

/** A backend that validates Vonage delivery receipts (the `sig` of signed webhooks). */
export interface VonageDeliveryReceipts {
  signedDeliveryReceipt(params: Record<string, string>): boolean;
}

export function takesTwilioCallbacks(backend: BaseBackend): backend is BaseBackend & TwilioStatusCallbacks {
  return typeof (backend as Partial<TwilioStatusCallbacks>).signedStatusCallback === 'function';
}

export function takesVonageReceipts(backend: BaseBackend): backend is BaseBackend & VonageDeliveryReceipts {
  return typeof (backend as Partial<VonageDeliveryReceipts>).signedDeliveryReceipt === 'function';
}

/** A final delivery status, as send_attempts keeps it. */
export type FinalStatus = 'delivered' | 'undelivered' | 'failed';

/**
 * Twilio's MessageStatus: delivered, undelivered and failed are final; queued, sending, sent,
 * accepted, scheduled, read… are not, and change nothing.
 */
export function twilioFinalStatus(status: string | undefined): FinalStatus | undefined {
  switch (status) {
    case 'delivered':
    case 'read': // WhatsApp and RCS "read" implies delivered
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return undefined;
  }
}

/**
 * Vonage's DLR status: delivered; expired (the carrier gave up reaching the phone) is undelivered;
 * failed and rejected are failed; accepted, buffered and unknown are not final.
 */
export function vonageFinalStatus(status: string | undefined): FinalStatus | undefined {
  switch (status) {
    case 'delivered':
      return 'delivered';
    case 'expired':
      return 'undelivered';
    case 'failed':
    case 'rejected':
      return 'failed';
    default:
      return undefined;
  }
}
