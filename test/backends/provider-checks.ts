// Steps shared by the provider backend tests: a verify attempt, and a way to push a session past
// its expiry in the SQLite file.
import Database from 'better-sqlite3';
import { postJson, type TestApp } from '../helper.js';

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
