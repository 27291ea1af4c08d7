// Test harness: builds the real app on a real database, captures its log lines, and reads the
// codes sent from a recorder backend (or, where a test chose it, from the console backend's lines).
// SQLite: a base file is migrated once per test file and copied for each app (copying beats
// re-migrating). PostgreSQL: a fresh database per call.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Test } from 'tap';
import app from '../src/app.js';
import { BaseBackend } from '../src/backends/base.js';
import { builtInBackends } from '../src/backends/registry.js';
import { type Config, loadConfig } from '../src/config.js';
import { loggerOptions, type RequestDeadlines, serverOptions } from '../src/server-options.js';
import { migrate } from '../src/storage/migrate.js';
import { maskPhoneNumber } from '../src/verification/phone.js';

/** A message the recorder backend was given, with the code it carried. */
export interface RecordedSms {
  number: string;
  message: string;
  code: string | undefined;
}

/**
 * The backend build() gives the service unless a test names one: it sends nothing and keeps each
 * message, with the code the service had it generate, so tests read codes from what was "sent".
 */
export class RecorderBackend extends BaseBackend {
  readonly sent: RecordedSms[] = [];
  readonly #codes: string[] = [];

  override generateSecurityCode(): string {
    const code = super.generateSecurityCode();
    this.#codes.push(code);
    return code;
  }

  override sendSms(number: string, message: string): void {
    // Starts run concurrently: the code is the latest generated one this message carries.
    const index = this.#codes.findLastIndex((code) => message.includes(code));
    const code = index >= 0 ? this.#codes.splice(index, 1)[0] : undefined;
    this.sent.push({ number, message, code });
  }
}

/** The name build() registers the recorder under. */
export const RECORDER_BACKEND = 'test-recorder';
builtInBackends[RECORDER_BACKEND] ??= (options) => new RecorderBackend(options);

export const POSTGRES_ADMIN_URL =
  process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
export const REDIS_TEST_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const silentMigrationLog = { info() {}, warn() {} };

/** Collects the service's JSON log lines. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) this.lines.push(line);
    done();
  }
  get entries(): Record<string, unknown>[] {
    return this.lines.map((line) => JSON.parse(line));
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

let baseSqliteFile: Promise<string> | undefined;
/** A migrated SQLite file, made once per test process. */
function migratedBase(): Promise<string> {
  baseSqliteFile ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pv-base-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'base.db');
    await migrate('sqlite', `file:${file}`, silentMigrationLog);
    return file;
  })();
  return baseSqliteFile;
}

/** A new SQLite database file (already migrated), removed when the test ends. */
export async function sqliteUrl(t: Test): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pv-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'phone-verify.db');
  copyFileSync(await migratedBase(), file);
  return `file:${file}`;
}

/**
 * A required server that is not there: a failure in CI, elsewhere a skip that tap counts and
 * reports ("# SKIP PostgreSQL not reachable …"), so a run without it never passes silently.
 */
function unavailable(t: Test, message: string): false {
  if (process.env.CI) t.fail(`${message} (required in CI)`);
  else t.pass(message, { skip: message });
  return false;
}

/**
 * Whether PostgreSQL answers. In CI a missing server fails the run; elsewhere the test's PostgreSQL
 * part is reported as skipped.
 */
export async function postgresAvailable(t: Test): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return true;
  } catch (error) {
    return unavailable(t, `PostgreSQL not reachable at ${POSTGRES_ADMIN_URL}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Whether Redis answers at REDIS_TEST_URL. In CI a missing server fails the run; elsewhere the
 * test's Redis part is reported as skipped.
 */
export async function redisAvailable(t: Test): Promise<boolean> {
  const client = new Redis(REDIS_TEST_URL, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    return unavailable(t, `Redis not reachable at ${REDIS_TEST_URL}: ${(error as Error).message}`);
  } finally {
    client.disconnect();
  }
}

/** A fresh, empty PostgreSQL database (not migrated), dropped when the test ends. */
export async function postgresUrl(t: Test): Promise<string> {
  const name = `pv_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  t.teardown(async () => {
    const dropper = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  });
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface BuildOptions {
  /** environment variables, as the service would read them (DATABASE_URL defaults to a new SQLite file) */
  env?: Record<string, string>;
  /** shorter request deadlines than the service's 30 s, for slow-client tests */
  deadlines?: RequestDeadlines;
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  logs: LogCapture;
  /**
   * The code of the last message sent (to a number, if given): from the recorder backend, or for a
   * test that chose the console backend, from its log lines.
   */
  lastCode(phoneNumber?: string): string;
}

/** The code of the last message the console backend logged (to a number, if given). */
function lastConsoleCode(logs: LogCapture, phoneNumber?: string): string | undefined {
  const sent = logs.entries.filter(
    (entry) =>
      entry.backend === 'console' &&
      typeof entry.message === 'string' &&
      (!phoneNumber ||
        entry.phone_number === phoneNumber ||
        entry.phone_number === maskPhoneNumber(phoneNumber)),
  );
  return /security code (\d+)/.exec(String(sent.at(-1)?.message ?? ''))?.[1];
}

/** The real app, ready, on its own database; closed when the test ends. */
export async function build(t: Test, options: BuildOptions = {}): Promise<TestApp> {
  // Full numbers in the log let lastCode() tell console lines apart; tests of masking set it back.
  // Limits high enough for flows that start many sessions for one number; limit tests set their own.
  const env: Record<string, string> = {
    PHONE_VERIFICATION_BACKEND: RECORDER_BACKEND,
    LOG_LEVEL: 'info',
    LOG_PHONE_NUMBERS: 'full',
    RATE_LIMIT_MAX: '100000',
    PHONE_RATE_LIMIT_MAX: '100000',
    PREFIX_RATE_LIMIT_MAX: '100000',
    ...options.env,
  };
  env.DATABASE_URL ??= await sqliteUrl(t);
  const config = loadConfig(env);
  const logs = new LogCapture();
  const fastify = Fastify({
    ...serverOptions(config, options.deadlines),
    logger: { ...loggerOptions(config), stream: logs },
  });
  await fastify.register(app, { config });
  await fastify.ready();
  t.teardown(() => fastify.close());
  const lastCode = (phoneNumber?: string) => {
    const backend: BaseBackend = fastify.backend;
    const code =
      backend instanceof RecorderBackend
        ? backend.sent.filter((sms) => !phoneNumber || sms.number === phoneNumber).at(-1)?.code
        : lastConsoleCode(logs, phoneNumber);
    if (!code) throw new Error(`no code sent${phoneNumber ? ` to ${phoneNumber}` : ''}`);
    return code;
  };
  return { app: fastify, config, logs, lastCode };
}

/** POST a JSON body through app.inject. */
export function postJson(
  app: FastifyInstance,
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/json', ...headers },
    payload: JSON.stringify(body),
  });
}

/** Starts a verification and returns the reply body with the code that was sent. */
export async function startVerification(
  target: TestApp,
  phoneNumber = '+14155550100',
): Promise<{ id: string; session_token: string; phone_number: string; code: string }> {
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: phoneNumber });
  if (reply.statusCode !== 201) throw new Error(`start answered ${reply.statusCode}: ${reply.body}`);
  const body = reply.json();
  return { ...body, code: target.lastCode(body.phone_number) };
}

/** Runs one SQL statement directly on a test database (to age a session, or to read raw rows). */
export async function runSql(
  databaseUrl: string,
  text: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  if (databaseUrl.startsWith('file:')) {
    const { default: Sqlite } = await import('better-sqlite3');
    const db = new Sqlite(databaseUrl.slice('file:'.length), { timeout: 10_000 });
    try {
      const statement = db.prepare(text.replace(/\$\d+/g, '?'));
      if (statement.reader) return statement.all(...params) as Record<string, unknown>[];
      statement.run(...params);
      return [];
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** Moves a session's expiry into the past, as if its code had aged out. */
export function expire(databaseUrl: string, id: string): Promise<unknown> {
  const past = new Date(Date.now() - 60_000);
  return runSql(databaseUrl, 'UPDATE verifications SET expires_at = $1 WHERE id = $2', [
    databaseUrl.startsWith('file:') ? past.toISOString() : past,
    id,
  ]);
}

/** The databases a test should run on: SQLite always, PostgreSQL when it answers (required in CI). */
export const DATABASES = ['sqlite', 'postgresql'] as const;

/** A database URL of the given kind for this test, or undefined when PostgreSQL is unavailable here. */
export async function databaseUrl(t: Test, kind: (typeof DATABASES)[number]): Promise<string | undefined> {
  if (kind === 'sqlite') return sqliteUrl(t);
  return (await postgresAvailable(t)) ? postgresUrl(t) : undefined;
}

/** A sample's value on /metrics (the sum over every series that has the labels given), 0 if absent. */
export async function metric(target: TestApp, name: string, labels: Record<string, string> = {}) {
  const text = (await target.app.inject({ method: 'GET', url: '/metrics' })).body;
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const series = match[2] ?? '';
    if (Object.entries(labels).every(([key, value]) => series.includes(`${key}="${value}"`))) {
      sum += Number(match[3]);
    }
  }
  return sum;
}
