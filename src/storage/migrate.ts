// Applies the pending migrations of prisma/<kind>/migrations at start, offline, and records them in
// Prisma's own _prisma_migrations table (same columns, same SHA-256 checksums), so that
// `prisma migrate status`/`deploy` agree with what ran. Replicas starting together serialise on a
// lock: PostgreSQL's advisory lock (the key Prisma Migrate uses) or SQLite's write lock.
// It talks to the drivers directly (better-sqlite3, node-postgres): a migration script holds
// several statements and needs the lock on one connection for its whole run.
import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DatabaseKind } from '../config.js';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** prisma/ beside src/ and dist/ alike. */
const PRISMA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'prisma');
/** The advisory lock key of Prisma Migrate, so our runs and the CLI's exclude each other too. */
const PG_MIGRATION_LOCK = 72707369;

const CREATE_TABLE: Record<DatabaseKind, string> = {
  sqlite: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
  )`,
  postgresql: `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
  )`,
};

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

export function readMigrations(kind: DatabaseKind, prismaDir = PRISMA_DIR): Migration[] {
  const root = join(prismaDir, kind, 'migrations');
  return readdirSync(root)
    .filter((name) => statSync(join(root, name)).isDirectory())
    .sort()
    .map((name) => {
      const sql = readFileSync(join(root, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** The migrations not yet applied; throws on one that failed half-way (as Prisma does, P3009). */
function pending(migrations: Migration[], applied: AppliedRow[], logger: MigrationLogger): Migration[] {
  const done = new Map<string, AppliedRow>();
  for (const row of applied) {
    if (row.rolled_back_at != null) continue;
    if (row.finished_at == null) {
      throw new Error(
        `migration ${row.migration_name} failed earlier and was not rolled back; resolve it before starting`,
      );
    }
    done.set(row.migration_name, row);
  }
  for (const migration of migrations) {
    const row = done.get(migration.name);
    if (row && row.checksum !== migration.checksum) {
      logger.warn({ migration: migration.name }, 'migration was modified after it was applied');
    }
  }
  return migrations.filter((migration) => !done.has(migration.name));
}

async function migrateSqlite(
  url: string,
  migrations: Migration[],
  logger: MigrationLogger,
): Promise<string[]> {
  // Loaded here: a PostgreSQL deployment never loads the SQLite driver.
  const { explainAccessError, openSqliteFile, sqliteFilePath } = await import('./sqlite/file.js');
  const file = sqliteFilePath(url);
  // Waits (synchronously: nothing else runs yet) for a replica migrating the same file.
  const db = openSqliteFile(file, { timeout: 30_000, createFolder: true });
  try {
    db.pragma('journal_mode = WAL');
    // Table rebuilds in Prisma's SQLite migrations need FK checks off; they are checked before commit.
    db.pragma('foreign_keys = OFF');
    // IMMEDIATE takes the write lock now: a replica starting alongside waits here, then finds the work done.
    db.exec('BEGIN IMMEDIATE');
    try {
      db.exec(CREATE_TABLE.sqlite);
      const applied = db
        .prepare('SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations')
        .all() as AppliedRow[];
      const todo = pending(migrations, applied, logger);
      const record = db.prepare(
        'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)',
      );
      for (const migration of todo) {
        const startedAt = new Date().toISOString();
        db.exec(migration.sql);
        record.run(randomUUID(), migration.checksum, new Date().toISOString(), migration.name, startedAt);
      }
      const violations = db.pragma('foreign_key_check') as unknown[];
      if (violations.length > 0)
        throw new Error(`migrations left ${violations.length} foreign key violation(s)`);
      db.exec('COMMIT');
      return todo.map((migration) => migration.name);
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      throw error;
    }
  } catch (error) {
    throw explainAccessError(file, error) ?? error;
  } finally {
    db.close();
  }
}

async function migratePostgres(
  url: string,
  migrations: Migration[],
  logger: MigrationLogger,
): Promise<string[]> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {}); // a dropped connection surfaces as the failed query below
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PG_MIGRATION_LOCK]);
    try {
      await client.query(CREATE_TABLE.postgresql);
      const { rows } = await client.query<AppliedRow>(
        'SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations',
      );
      const todo = pending(migrations, rows, logger);
      for (const migration of todo) {
        const startedAt = new Date();
        // One transaction per migration: a failure leaves nothing half-applied.
        await client.query('BEGIN');
        try {
          await client.query(migration.sql);
          await client.query(
            'INSERT INTO _prisma_migrations (id, checksum, finished_at, migration_name, started_at, applied_steps_count) VALUES ($1, $2, now(), $3, $4, 1)',
            [randomUUID(), migration.checksum, migration.name, startedAt],
          );
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => {});
          throw error;
        }
      }
      return todo.map((migration) => migration.name);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [PG_MIGRATION_LOCK]).catch(() => {});
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Applies what is pending; returns the names applied (empty when up to date). `migrations` is the
 * whole tree by default; a test passes the first ones to build a database as an older version left it.
 */
export async function migrate(
  kind: DatabaseKind,
  url: string,
  logger: MigrationLogger,
  migrations: Migration[] = readMigrations(kind),
): Promise<string[]> {
  const applied =
    kind === 'sqlite'
      ? await migrateSqlite(url, migrations, logger)
      : await migratePostgres(url, migrations, logger);
  if (applied.length > 0)
    logger.info({ migrations: applied }, `applied ${applied.length} database migration(s)`);
  return applied;
}
