// Shared by the plugin tests: where the fixture plugins are, a temp outbox the recording fixtures
// write to, a temp plugins folder, and the start → verify steps over the HTTP API.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { build, postJson, type TestApp } from '../helper.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/plugins/', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../examples/plugins/', import.meta.url));
export const SERVICE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A folder removed when the test ends. */
export function tempDir(t: Test, prefix = 'pv-plugins-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Writes files (name → text) into a new temp folder and returns it. */
export function pluginsFolder(t: Test, files: Record<string, string>): string {
  const dir = tempDir(t);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

export interface SentMessage {
  from: string;
  number: string;
  message: string;
  via?: string;
}

/** The file the recording fixtures append to, and a reader for it. */
export function outbox(t: Test): { file: string; sent(): SentMessage[] } {
  const file = join(tempDir(t, 'pv-outbox-'), 'outbox.jsonl');
  return {
    file,
    sent() {
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {}
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    },
  };
}

/** The service with PLUGINS_DIR and PHONE_VERIFICATION_BACKEND set (and more env, if given). */
export function buildWithPlugin(
  t: Test,
  backend: string,
  env: Record<string, string> = {},
  pluginsDir = FIXTURES,
): Promise<TestApp> {
  return build(t, { env: { PLUGINS_DIR: pluginsDir, PHONE_VERIFICATION_BACKEND: backend, ...env } });
}

/** The digits of "security code NNN" in a message. */
export function codeIn(message: string): string {
  const code = /security code (\d+)/.exec(message)?.[1];
  if (!code) throw new Error(`no security code in ${JSON.stringify(message)}`);
  return code;
}

export async function start(target: TestApp, phoneNumber = '+14155550100') {
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: phoneNumber });
  return { reply, body: reply.json() as { id: string; session_token: string; phone_number: string } };
}

export function verify(
  target: TestApp,
  started: { session_token: string; phone_number: string },
  securityCode: string,
) {
  return postJson(target.app, '/v1/verifications/verify', {
    phone_number: started.phone_number,
    session_token: started.session_token,
    security_code: securityCode,
  });
}

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  raw: string;
}

/** A local HTTP server that records each request and answers with reply(). */
export async function fakeServer(t: Test, reply: (received: Received) => { status: number; body: unknown }) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, raw };
      received.push(entry);
      const { status, body } = reply(entry);
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}
