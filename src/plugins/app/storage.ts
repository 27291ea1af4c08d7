// Owns the database: applies pending migrations (unless MIGRATE_ON_START=false), opens the
// connection (SQLite) or pool (PostgreSQL) with DATABASE_TIMEOUT on every operation, decorates the
// verification store and the database itself (the retention purge runs on it), and closes it last.
import fp from 'fastify-plugin';
import { type Database, openDatabase } from '../../storage/database.js';
import { migrate } from '../../storage/migrate.js';
import { SqlTenantStore } from '../../storage/tenant-store.js';
import { SqlVerificationStore } from '../../storage/verification-store.js';
import { CachedTenantStore } from '../../verification/cached-tenants.js';
import type { VerificationStore } from '../../verification/store.js';
import type { TenantStore } from '../../verification/tenants.js';

declare module 'fastify' {
  interface FastifyInstance {
    database: Database;
    store: VerificationStore;
    tenants: TenantStore;
  }
}

/**
 * PostgreSQL connections the service's statements are pipelined and group-committed over
 * (storage/postgresql/pipeline.ts); two keep one answering while the other waits on a slow
 * statement.
 */
const PIPELINE_LANES = 2;

export default fp(
  async (fastify) => {
    const { databaseKind, databaseUrl, databaseTimeoutMs, migrateOnStart } = fastify.config;
    if (migrateOnStart) await migrate(databaseKind, databaseUrl, fastify.log);
    const database = await openDatabase(databaseKind, databaseUrl, {
      timeoutMs: databaseTimeoutMs,
      onConnectionError: (error) =>
        fastify.log.warn(
          { err: { message: error.message } },
          'database connection dropped (the next statement opens a new one)',
        ),
      backgroundCheckpoints: true,
      pipelineLanes: PIPELINE_LANES,
      onCheckpointError: (error) =>
        fastify.log.error(
          { err: { message: error.message } },
          'SQLite checkpoint worker failed; checkpoints run inside commits again',
        ),
    });
    fastify.decorate('database', database);
    fastify.decorate('store', new SqlVerificationStore(database));
    fastify.decorate('tenants', new CachedTenantStore(new SqlTenantStore(database)));
    fastify.addHook('onClose', () => database.close());
  },
  { name: 'storage', dependencies: ['config'] },
);
