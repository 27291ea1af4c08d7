// Removes from a production node_modules (after `npm prune --omit=dev`) what nothing loads at run
// time, for a smaller image: usage `node scripts/trim-production-modules.mjs node_modules`.
// - @prisma/client's optional peers `prisma` (the CLI) and `typescript`, which npm keeps, and the
//   packages only they use (client generation happens at build time);
// - better-sqlite3's sources and intermediate build files (the compiled addon stays);
// - Prisma runtime files for engines and databases this service does not use: it runs the
//   "client" engine (runtime/client.js) on SQLite and PostgreSQL, without source maps.
// The image-layout test applies it too, so a trim that breaks the service fails the suite.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) {
  process.stderr.write('usage: node scripts/trim-production-modules.mjs <node_modules>\n');
  process.exit(2);
}

const paths = [
  'prisma',
  'typescript',
  '@prisma/config',
  '@prisma/engines',
  '@prisma/fetch-engine',
  '@prisma/get-platform',
  'effect',
  'fast-check',
  'pure-rand',
  '.bin/prisma',
  '.bin/tsc',
  '.bin/tsserver',
  'better-sqlite3/deps',
  'better-sqlite3/src',
  'better-sqlite3/build/deps',
  'better-sqlite3/build/Release/obj',
  'better-sqlite3/build/Release/obj.target',
  'better-sqlite3/build/Release/.deps',
  'better-sqlite3/build/Release/sqlite3.a',
  'better-sqlite3/build/Release/test_extension.node',
];

const runtime = join('@prisma', 'client', 'runtime');
const unused = /\.map$|^query_engine_bg\.|^query_compiler_bg\.(mysql|sqlserver|cockroachdb)\./;
try {
  for (const name of readdirSync(join(root, runtime))) if (unused.test(name)) paths.push(join(runtime, name));
} catch {
  // no @prisma/client: nothing to trim there
}

for (const path of paths) rmSync(join(root, path), { recursive: true, force: true });
process.stdout.write(`trimmed ${paths.length} path(s) from ${root}\n`);
