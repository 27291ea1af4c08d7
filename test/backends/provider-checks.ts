// Checks shared by the provider backend tests: a start that the provider fails must answer 502
// backend_error, leave a failed session that can never verify, and log the provider's code with
// nothing secret; and a way to push a session past its expiry in the SQLite file.
import Database from 'better-sqlite3';
import type { Test } from 'tap';
import { postJson, type TestApp } from '../helper.js';

export interface FailedStartExpectation {
  phoneNumber: string;
  /** the provider's code that must reach the log line */
  providerCode: string;
  /** strings that must appear nowhere in the logs (secret, Authorization value, …) */
  neverLogged: string[];
  /** the message the provider received (read after the start), if any: neither it nor its code may be logged */
  sentMessage?: () => string | undefined;
}

/** Starts a verification the provider fails and checks everything the caller and the log see. */
export async function expectFailedStart(t: Test, target: TestApp, expected: FailedStartExpectation) {
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: expected.phoneNumber });
  t.equal(reply.statusCode, 502, 'answers 502');
  t.match(reply.headers['content-type'], /^application\/problem\+json/);
  const problem = reply.json();
  t.match(problem, { status: 502, code: 'backend_error' });
  t.notOk('id' in problem || 'session_token' in problem, 'no session is handed out');

  const line = target.logs.entries.find(
    (entry) => entry.msg === 'SMS backend failed to send; verification marked failed',
  );
  t.ok(line, 'the failure is logged');
  const err = (line?.err ?? {}) as Record<string, unknown>;
  t.equal(String(err.code), expected.providerCode, "the log line carries the provider's code");
  t.ok(typeof err.message === 'string' && err.message.length > 0, "and the provider's message");

  const logs = target.logs.text;
  for (const secret of expected.neverLogged)
    t.notOk(logs.includes(secret), `log never holds ${secret.slice(0, 6)}…`);
  t.notOk(logs.includes(expected.phoneNumber.slice(2)), 'log never holds the full number');
  const sentMessage = expected.sentMessage?.();
  if (expected.sentMessage) {
    t.ok(sentMessage, 'the provider received the message');
    t.notOk(sentMessage && logs.includes(sentMessage), 'log never holds the message');
    const code = /security code (\d+)/.exec(sentMessage ?? '')?.[1];
    t.ok(code, 'the message carried a code');
    if (code) t.notOk(logs.includes(code), 'log never holds the code');
  }

  const id = String(line?.verification_id);
  const view = await target.app.inject({ method: 'GET', url: `/v1/verifications/${id}` });
  t.equal(view.statusCode, 200);
  t.equal(view.json().status, 'failed', 'the session is marked failed');
  return { id, err };
}

/** A verify attempt. */
export function verify(target: TestApp, phoneNumber: string, securityCode: string, sessionToken: string) {
  return postJson(target.app, '/v1/verifications/verify', {
    phone_number: phoneNumber,
    security_code: securityCode,
    session_token: sessionToken,
  });
}

/** Moves a session's expiry an hour into the past, directly in the SQLite file. */
export function expireSession(target: TestApp, id: string): void {
  const file = target.config.databaseUrl.replace(/^file:/, '');
  const db = new Database(file);
  try {
    const row = db.prepare('SELECT expires_at FROM verifications WHERE id = ?').get(id) as
      | { expires_at: unknown }
      | undefined;
    if (!row) throw new Error(`no session ${id}`);
    const past = new Date(Date.now() - 3_600_000);
    // Keep whatever representation the adapter chose for DateTime.
    const value = typeof row.expires_at === 'number' ? past.getTime() : past.toISOString();
    db.prepare('UPDATE verifications SET expires_at = ? WHERE id = ?').run(value, id);
  } finally {
    db.close();
  }
}
