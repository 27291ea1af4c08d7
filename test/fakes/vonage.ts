// A fake of Vonage's SMS API (POST /sms/json): answers like Vonage does, HTTP 200 with a status
// per message ("0" sent, anything else refused), and records what the SDK sent.
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';
import {
  type FakeReply,
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from './recording-server.js';

export interface FakeVonage extends RecordingServer {
  /** the JSON body of a recorded request (to, from, text) */
  json(request: RecordedRequest): Record<string, unknown>;
}

/** The 200 reply for one message sent. */
export function vonageSent(request: RecordedRequest): FakeReply {
  const body = JSON.parse(request.body || '{}') as Record<string, unknown>;
  return {
    status: 200,
    body: {
      'message-count': '1',
      messages: [
        {
          to: body.to,
          'message-id': randomBytes(16).toString('hex'),
          status: '0',
          'remaining-balance': '3.14159265',
          'message-price': '0.03330000',
          network: '12345',
        },
      ],
    },
  };
}

/** The 200 reply in which Vonage refuses the message (status "2", "29", …). */
export function vonageRefused(status: string, errorText: string): FakeReply {
  return { status: 200, body: { 'message-count': '1', messages: [{ status, 'error-text': errorText }] } };
}

export async function startFakeVonage(t: Test): Promise<FakeVonage> {
  const server = await startRecordingServer(t, (request) => vonageSent(request));
  return Object.assign(server, {
    json: (request: RecordedRequest) => JSON.parse(request.body) as Record<string, unknown>,
  });
}
