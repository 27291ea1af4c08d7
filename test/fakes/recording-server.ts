// A local HTTP server standing in for an SMS provider in tests: it records every request exactly as
// received and answers with whatever the test sets (a reply, silence, or a dropped connection).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';

export interface RecordedRequest {
  method: string;
  /** path and query, as the provider would see it */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface FakeReply {
  status: number;
  /** sent as JSON unless it is a string */
  body?: unknown;
  contentType?: string;
  /** milliseconds to wait before answering */
  delayMs?: number;
}

/** 'hang' never answers (the connection stays open until teardown); 'drop' resets it. */
export type FakeBehaviour = FakeReply | 'hang' | 'drop';

export type Responder = (request: RecordedRequest) => FakeBehaviour;

export interface RecordingServer {
  /** http://127.0.0.1:PORT */
  url: string;
  requests: RecordedRequest[];
  /** how many requests were in flight at once, at most */
  maxInFlight: number;
  /** what the server answers; tests replace it */
  respond: Responder;
}

/** Starts the fake on 127.0.0.1, a random port; closed (connections included) in teardown. */
export async function startRecordingServer(t: Test, respond: Responder): Promise<RecordingServer> {
  let inFlight = 0;
  const fake: RecordingServer = { url: '', requests: [], maxInFlight: 0, respond };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      fake.requests.push(recorded);
      inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, inFlight);
      res.on('close', () => inFlight--);
      const behaviour = fake.respond(recorded);
      if (behaviour === 'hang') return;
      if (behaviour === 'drop') {
        req.socket.destroy();
        return;
      }
      const send = () => {
        const isText = typeof behaviour.body === 'string';
        res.writeHead(behaviour.status, {
          'content-type': behaviour.contentType ?? (isText ? 'text/html' : 'application/json'),
        });
        res.end(
          behaviour.body === undefined
            ? ''
            : isText
              ? String(behaviour.body)
              : JSON.stringify(behaviour.body),
        );
      };
      if (behaviour.delayMs) setTimeout(send, behaviour.delayMs);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return fake;
}

/** The URL of a port nothing listens on (it was just released): connections are refused. */
export async function refusingUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** The user and password of a Basic Authorization header. */
export function basicCredentials(request: RecordedRequest): { user: string; password: string } | undefined {
  const match = /^Basic (.+)$/.exec(String(request.headers.authorization ?? ''));
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
