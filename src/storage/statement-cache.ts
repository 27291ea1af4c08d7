// Reuses prepared statements under Prisma's SQLite adapter, which prepares every statement anew
// (about 12 % of a verify's CPU in the benchmark). The adapter (@prisma/adapter-better-sqlite3
// 6.19, pinned) only ever calls `db.prepare(sql).bind(args)` and then `reader`, `run()`,
// `columns()` and `raw().all()` on the result. This serves exactly those calls from one statement
// per SQL text, passing the arguments with each call instead of binding them for the statement's
// life. better-sqlite3 is synchronous, so no two uses of a statement can interleave.
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';

/** A statement with arguments, shaped as the adapter uses a bound better-sqlite3 statement. */
interface BoundStatement {
  readonly reader: boolean;
  run(): unknown;
  columns(): ReturnType<Statement['columns']>;
  raw(): { all(): unknown[] };
}

interface Prepared {
  statement: Statement;
  columns(): ReturnType<Statement['columns']>;
}

const PATCHED = Symbol.for('phone-verify.statement-cache');

/** Caches up to `limit` statements by SQL text on this connection (idempotent). */
export function reusePreparedStatements(db: SqliteDatabase, limit = 256): void {
  const target = db as SqliteDatabase & { [PATCHED]?: true };
  if (target[PATCHED]) return;
  target[PATCHED] = true;
  const prepare = db.prepare.bind(db);
  const statements = new Map<string, Prepared>();

  const bound = ({ statement, columns }: Prepared, args: unknown[]): BoundStatement => ({
    reader: statement.reader,
    run: () => statement.run(...args),
    columns,
    raw: () => ({ all: () => statement.raw(true).all(...args) }),
  });

  (db as { prepare: unknown }).prepare = (sql: string) => {
    let prepared = statements.get(sql);
    if (!prepared) {
      const statement = prepare(sql);
      // A prepared statement's columns never change: read them once (the adapter asks every call).
      let columns: ReturnType<Statement['columns']> | undefined;
      prepared = { statement, columns: () => (columns ??= statement.columns()) };
      // Past the limit (never reached by this service's fixed SQL) statements are simply not kept.
      if (statements.size < limit) statements.set(sql, prepared);
    }
    const cached = prepared;
    return { bind: (args: unknown[]) => bound(cached, args) };
  };
}
