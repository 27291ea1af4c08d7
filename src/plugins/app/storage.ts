// Owns the database: applies pending migrations (unless MIGRATE_ON_START=false), opens the Prisma
// client, decorates the verification store, and disconnects on close.
import fp from 'fastify-plugin';
import { openDatabase } from '../../storage/database.js';
import { migrate } from '../../storage/migrate.js';
import { SqlVerificationStore } from '../../storage/verification-store.js';
import type { VerificationStore } from '../../verification/store.js';

declare module 'fastify' {
  interface FastifyInstance {
    store: VerificationStore;
  }
}

/**
 * PostgreSQL connections the service's statements are pipelined over (pg-pipeline.ts). Measured
 * with 1 to 6, and with group commit 1, 2 and 4: about alike; 2 keeps one answering while the
 * other waits on a slow statement.
 */
const PIPELINE_CONNECTIONS = 2;

export default fp(
  async (fastify) => {
    const { databaseKind, databaseUrl, migrateOnStart } = fastify.config;
    if (migrateOnStart) await migrate(databaseKind, databaseUrl, fastify.log);
    const database = await openDatabase(databaseKind, databaseUrl, {
      onPoolError: (error) =>
        fastify.log.warn(
          { err: { message: error.message } },
          'database connection dropped (the next statement opens a new one)',
        ),
      backgroundCheckpoints: true,
      pipelineConnections: PIPELINE_CONNECTIONS,
      onCheckpointError: (error) =>
        fastify.log.error(
          { err: { message: error.message } },
          'SQLite checkpoint worker failed; checkpoints run inside commits again',
        ),
    });
    const store = new SqlVerificationStore(database);
    fastify.decorate('store', store);
    fastify.addHook('onClose', () => store.close());
  },
  { name: 'storage', dependencies: ['config'] },
);
