// The image's layout, without an image: production dependencies only, the compiled dist/, the
// migrations and package.json in an app folder, with /data- and /plugins-like folders beside it.
// The server is started the way the image's CMD does (node dist/server.js, no npm), serves a
// verification, and stops cleanly on SIGTERM (exit 0). The real image is built and run with podman
// (see docs/operations.md, "Docker").
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { ensureBuilt, SERVICE_ROOT as root, scratchDir, startService } from '../service-process.js';

const run = promisify(execFile);
t.before(ensureBuilt);

/**
 * node_modules as the image has it: the production packages (what `npm prune --omit=dev` keeps),
 * hard-linked, then trimmed by the same script the Dockerfile runs.
 */
async function productionModules(target: string): Promise<void> {
  // What the lockfile marks as not dev-only is what `npm prune --omit=dev` keeps; read here
  // instead of asking `npm ls` (a second of CPU for the same answer).
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const modules = join(root, 'node_modules') + sep;
  const topLevel = Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.dev)
    .map(([path]) => path.slice('node_modules/'.length));
  // one cp per folder (node_modules itself, each @scope): a few processes, not hundreds
  const byFolder = new Map<string, string[]>();
  for (const name of new Set(topLevel)) {
    const folder = name.includes('/') ? name.split('/')[0]! : '';
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), join(modules, name)]);
  }
  for (const [folder, sources] of byFolder) {
    const destination = join(target, folder);
    mkdirSync(destination, { recursive: true });
    try {
      await run('cp', ['-al', ...sources, destination]);
    } catch {
      for (const source of sources) {
        cpSync(source, join(destination, source.split(sep).at(-1)!), { recursive: true });
      }
    }
  }
  await run(process.execPath, [join(root, 'scripts', 'trim-production-modules.mjs'), target]);
}

t.test('the server starts from the image layout as CMD starts it', async (t) => {
  const base = scratchDir(t, 'pv-image-');
  const app = join(base, 'app');
  const data = join(base, 'data');
  const plugins = join(base, 'plugins');
  mkdirSync(data);
  mkdirSync(plugins);
  mkdirSync(app);

  // dist/ as `npm run build` left it (rebuilt above when older than src/)
  cpSync(join(root, 'dist'), join(app, 'dist'), { recursive: true });
  for (const kind of ['sqlite', 'postgresql']) {
    cpSync(join(root, 'prisma', kind, 'migrations'), join(app, 'prisma', kind, 'migrations'), {
      recursive: true,
    });
  }
  cpSync(join(root, 'package.json'), join(app, 'package.json'));
  await productionModules(join(app, 'node_modules'));
  for (const devOnly of ['typescript', 'tap', 'prisma', 'tsx', '@biomejs/biome']) {
    t.notOk(existsSync(join(app, 'node_modules', devOnly)), `dev dependency ${devOnly} is not there`);
  }
  t.ok(existsSync(join(app, 'node_modules', 'fastify')));
  t.ok(existsSync(join(app, 'node_modules', 'pino-pretty')), 'the optional pino-pretty (LOG_FORMAT=pretty)');

  const server = await startService(
    t,
    {
      NODE_ENV: 'production',
      DATABASE_URL: `file:${join(data, 'phone-verify.db')}`,
      PLUGINS_DIR: plugins,
    },
    { cwd: app },
  );
  const origin = server.url;
  t.match(
    server.output(),
    /^\{"level":30,"time":"[\d-]+T[\d:.]+Z",.*"msg":"Server listening at /m,
    'JSON log lines',
  );

  t.same(await (await fetch(`${origin}/healthz`)).json(), { status: 'ok' });
  t.equal((await fetch(`${origin}/readyz`)).status, 200);
  t.ok(existsSync(join(data, 'phone-verify.db')), 'the SQLite file is in the data folder, migrated at start');

  const startReply = await fetch(`${origin}/v1/verifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ phone_number: '+1 (415) 555-0100' }),
  });
  t.equal(startReply.status, 201);
  const started = (await startReply.json()) as { session_token: string; phone_number: string };
  const [, code] = await server.waitFor(/"backend":"console".*security code (\d+)/);
  t.ok(code, 'the console backend logged the message');
  const verifyReply = await fetch(`${origin}/v1/verifications/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      phone_number: started.phone_number,
      security_code: code,
      session_token: started.session_token,
    }),
  });
  t.equal(verifyReply.status, 200, 'verified');

  const openapi = await fetch(`${origin}/openapi.json`);
  t.equal(openapi.status, 200);
  t.equal(
    ((await openapi.json()) as { info: { version: string } }).info.version,
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version,
    "info.version comes from the app folder's package.json",
  );
  const docs = await fetch(`${origin}/docs/static/swagger-ui-bundle.js`);
  t.equal(docs.status, 200, 'Swagger UI assets come from the production dependencies');
  await docs.arrayBuffer();
  t.match(
    await (await fetch(`${origin}/metrics`)).text(),
    /phone_verify_verifications_approved_total\{backend="console",country="US"\} 1/,
  );

  server.child.kill('SIGTERM');
  t.equal(await server.exited, 0, 'SIGTERM: exit 0');
  t.match(server.output(), /"msg":"stopped"/, 'stopped after finishing in-flight requests');
});
