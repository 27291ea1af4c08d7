// Generates the Prisma clients for both databases (src/generated/{sqlite,postgresql}).
// The CLI wants DATABASE_URL to look like the schema's provider even though generation never
// connects, so each run gets a placeholder URL of the right kind.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const prismaCli = require.resolve('prisma/build/index.js');
const placeholders = {
  sqlite: 'file:./placeholder.db',
  postgresql: 'postgresql://placeholder@127.0.0.1:5432/placeholder',
};
for (const [provider, url] of Object.entries(placeholders)) {
  execFileSync(process.execPath, [prismaCli, 'generate', '--config', `prisma/${provider}/prisma.config.ts`], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
}
