// A fake of Twilio's Messages API (POST /2010-04-01/Accounts/{SID}/Messages.json): answers like
// Twilio does, a 201 message resource or a JSON error, and records what the SDK sent.
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import {
  type FakeReply,
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from './recording-server.js';

export interface FakeTwilio extends RecordingServer {
  /** the form fields of a recorded request (To, From, Body) */
  form(request: RecordedRequest): Record<string, string>;
}

/** The 201 reply Twilio gives for a queued message (or one already failed, with status). */
export function twilioMessage(request: RecordedRequest, overrides: Record<string, unknown> = {}): FakeReply {
  const form = Object.fromEntries(new URLSearchParams(request.body));
  const accountSid = /\/Accounts\/([^/]+)\//.exec(request.path)?.[1] ?? '';
  return {
    status: 201,
    body: {
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: form.Body,
      date_created: new Date().toUTCString(),
      date_sent: null,
      date_updated: new Date().toUTCString(),
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: form.From,
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      sid: `SM${randomBytes(16).toString('hex')}`,
      status: 'queued',
      to: form.To,
      uri: `/2010-04-01/Accounts/${accountSid}/Messages.json`,
      ...overrides,
    },
  };
}

/** A Twilio REST error reply, as for an invalid To number (21211). */
export function twilioError(status: number, code: number, message: string): FakeReply {
  return {
    status,
    body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

export async function startFakeTwilio(t: Test): Promise<FakeTwilio> {
  const server = await startRecordingServer(t, (request) => twilioMessage(request));
  return Object.assign(server, {
    form: (request: RecordedRequest) => Object.fromEntries(new URLSearchParams(request.body)),
  });
}
