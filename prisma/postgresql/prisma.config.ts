// Prisma CLI config for the PostgreSQL tree: the JS schema engine over the driver adapter, so
// generate and migrate diff never download a native engine. (migrate deploy through this adapter
// fails upstream, prisma/orm#27403: the service applies its migrations itself, see src/storage/migrate.ts.)
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: './schema.prisma',
  migrations: { path: './migrations' },
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL });
  },
});
