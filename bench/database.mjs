// The benchmark's databases: a temp SQLite file or a fresh PostgreSQL database, migrated with the
// service's own migrations, then filled directly (not through HTTP) with old sessions (--rows) and
// with the pool of live sessions whose right code the verify phase sends.
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { distModule } from './service.mjs';

/** Every pool session's code: the bench's backend generates it too. */
export const BENCH_CODE = '123456';
const quietLog = { info() {}, warn() {} };

/** Creates the database the service will use; `drop()` removes it. */
export async function createDatabase(kind, tempDir, adminUrl) {
  const { migrate } = await import(distModule('storage/migrate.js'));
  if (kind === 'sqlite') {
    const file = join(tempDir, `bench-${randomBytes(5).toString('hex')}.db`);
    const url = `file:${file}`;
    await migrate('sqlite', url, quietLog);
    const drop = async () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    };
    return { kind, url, drop };
  }
  const name = `pv_bench_${randomBytes(5).toString('hex')}`;
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const target = new URL(adminUrl);
  target.pathname = `/${name}`;
  const url = target.toString();
  await migrate('postgresql', url, quietLog);
  return { kind, url, drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(url, sql) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

// Old sessions, made by the database itself: finished weeks ago (approved, canceled, or pending and
// expired), numbers spread over a range, unique random hashes.
const OLD_ROWS = {
  sqlite: `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
    INSERT INTO verifications (id, service_id, phone_number, channel, status, token_hash, code_hash,
      failed_attempts, approvals, backend, locale, created_at, expires_at, verified_at, updated_at)
    SELECT 'old-' || i, 'default', '+4420' || printf('%08d', i % 5000000), 'sms',
      CASE i % 3 WHEN 0 THEN 'approved' WHEN 1 THEN 'canceled' ELSE 'pending' END,
      lower(hex(randomblob(32))), lower(hex(randomblob(32))), 0, CASE i % 3 WHEN 0 THEN 1 ELSE 0 END,
      'bench', NULL, strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 days'),
      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 days', '+1 hour'),
      CASE i % 3 WHEN 0 THEN strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 days') END,
      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-20 days')
    FROM n`,
  postgresql: `INSERT INTO verifications (id, service_id, phone_number, channel, status, token_hash, code_hash,
      failed_attempts, approvals, backend, locale, created_at, expires_at, verified_at, updated_at)
    SELECT 'old-' || i, 'default', '+4420' || lpad((i % 5000000)::text, 8, '0'), 'sms',
      CASE i % 3 WHEN 0 THEN 'approved' WHEN 1 THEN 'canceled' ELSE 'pending' END,
      encode(sha256(('t' || i)::bytea), 'hex'), encode(sha256(('c' || i)::bytea), 'hex'), 0,
      CASE i % 3 WHEN 0 THEN 1 ELSE 0 END, 'bench', NULL, now() - interval '20 days',
      now() - interval '20 days' + interval '1 hour',
      CASE i % 3 WHEN 0 THEN now() - interval '20 days' END, now() - interval '20 days'
    FROM generate_series(1, $1::int) AS i`,
};

/** Adds `count` old sessions. */
export async function addOldSessions(database, count) {
  if (count <= 0) return;
  if (database.kind === 'sqlite') {
    const db = new Database(database.url.slice('file:'.length));
    try {
      db.pragma('journal_mode = WAL');
      db.prepare(OLD_ROWS.sqlite).run(count);
    } finally {
      db.close();
    }
    return;
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(OLD_ROWS.postgresql, [count]);
    await client.query('ANALYZE verifications');
  } finally {
    await client.end();
  }
}

/**
 * Adds `count` live, pending sessions over `numbers` (in turn), hashed exactly as the service hashes
 * them, and returns the verify requests that approve them (each once: codes are single-use).
 */
export async function addSessionPool(database, count, numbers, twilioService) {
  const { hashCode, hashToken, sessionTokenFor } = await import(distModule('verification/secrets.js'));
  const now = new Date();
  const expires = new Date(now.getTime() + 3_600_000);
  const serviceId = twilioService ?? 'default';
  const sessions = Array.from({ length: count }, (_, i) => {
    // A /v2 session is checked by its VE SID (its id, a UUID) and has the token derived from it.
    const id = twilioService ? randomUUID() : `pool-${i}`;
    const token = twilioService ? sessionTokenFor(id) : randomBytes(32).toString('base64url');
    return {
      id,
      phone: numbers[i % numbers.length],
      token,
      tokenHash: hashToken(token),
      codeHash: hashCode(token, BENCH_CODE),
    };
  });
  const columns = `(id, service_id, phone_number, channel, status, token_hash, code_hash, failed_attempts,
    approvals, backend, locale, created_at, expires_at, updated_at)`;
  if (database.kind === 'sqlite') {
    const db = new Database(database.url.slice('file:'.length));
    try {
      db.pragma('journal_mode = WAL');
      const insert = db.prepare(`INSERT INTO verifications ${columns}
        VALUES (?, ?, ?, 'sms', 'pending', ?, ?, 0, 0, 'bench', NULL, ?, ?, ?)`);
      const [created, expiresAt] = [now.toISOString(), expires.toISOString()];
      db.transaction(() => {
        for (const s of sessions)
          insert.run(s.id, serviceId, s.phone, s.tokenHash, s.codeHash, created, expiresAt, created);
      })();
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      for (let start = 0; start < sessions.length; start += 5_000) {
        const batch = sessions.slice(start, start + 5_000);
        await client.query(
          `INSERT INTO verifications ${columns}
           SELECT id, $7, phone, 'sms', 'pending', th, ch, 0, 0, 'bench', NULL, $5, $6, $5
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS s(id, phone, th, ch)`,
          [
            batch.map((s) => s.id),
            batch.map((s) => s.phone),
            batch.map((s) => s.tokenHash),
            batch.map((s) => s.codeHash),
            now,
            expires,
            serviceId,
          ],
        );
      }
      await client.query('ANALYZE verifications');
    } finally {
      await client.end();
    }
  }
  if (twilioService) {
    return sessions.map((s) => `VerificationSid=VE${s.id.replaceAll('-', '')}&Code=${BENCH_CODE}`);
  }
  return sessions.map((s) =>
    JSON.stringify({ phone_number: s.phone, security_code: BENCH_CODE, session_token: s.token }),
  );
}

/** Adds a Twilio Verify service (a tenant) for the /v2 phases; returns its VA SID. */
export async function addTwilioService(database) {
  const sid = `VA${randomBytes(16).toString('hex')}`;
  const sql = 'INSERT INTO services (id, name, settings, created_at) VALUES ($1, $2, $3, $4)';
  const params = [sid, 'Bench', '{}', new Date().toISOString()];
  if (database.kind === 'sqlite') {
    const db = new Database(database.url.slice('file:'.length));
    try {
      db.prepare(sql.replace(/\$\d/g, '?')).run(...params);
    } finally {
      db.close();
    }
    return sid;
  }
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query(sql, params);
  } finally {
    await client.end();
  }
  return sid;
}
