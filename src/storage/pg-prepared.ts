// Named (prepared) statements under Prisma's PostgreSQL adapter. The adapter sends every query
// unnamed, so PostgreSQL parses and plans each one anew; with a name per SQL text, node-postgres
// prepares it once per connection and then only binds and executes it. The service's SQL is a
// fixed handful of texts; past the limit, texts simply stay unnamed.
import type { Pool, QueryConfig } from 'pg';

const PATCHED = Symbol.for('phone-verify.pg-prepared');

/** Gives each of the first `limit` distinct SQL texts its own statement name (idempotent). */
export function prepareStatements(pool: Pool, limit = 256): void {
  const target = pool as Pool & { [PATCHED]?: true };
  if (target[PATCHED]) return;
  target[PATCHED] = true;
  const names = new Map<string, string>();
  const query = pool.query.bind(pool) as (config: QueryConfig, values?: unknown[]) => Promise<unknown>;
  (pool as { query: unknown }).query = (config: QueryConfig | string, values?: unknown[]) => {
    if (typeof config !== 'object' || config === null || config.name || typeof config.text !== 'string') {
      return query(config as QueryConfig, values);
    }
    let name = names.get(config.text);
    if (name === undefined && names.size < limit) {
      name = `pv_${names.size + 1}`;
      names.set(config.text, name);
    }
    return query(name ? { ...config, name } : config, values);
  };
}
