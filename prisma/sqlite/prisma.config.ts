// Prisma CLI config for the SQLite tree: the JS schema engine over the driver adapter, so the CLI
// (generate, migrate diff/deploy/status) never downloads a native engine.
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { defineConfig } from 'prisma/config';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: './schema.prisma',
  migrations: { path: './migrations' },
  async adapter() {
    return new PrismaBetterSQLite3({ url: process.env.DATABASE_URL ?? 'file:./data/phone-verify.db' });
  },
});
