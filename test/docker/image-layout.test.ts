// The image's layout, without an image: production dependencies only, the compiled dist/, the
// migrations and package.json in an app folder, with /data- and /plugins-like folders beside it.
// The server is started the way the image's CMD does (node dist/server.js, no npm), serves a
// verification, and stops cleanly on SIGTERM (exit 0). The real image is built and run with podman
// (see README, "Docker").
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import ts from 'typescript';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** dist/ as `tsc -p tsconfig.build.json` emits it; the type check is npm run lint's job. */
function compile(outDir: string): void {
  const srcDir = join(root, 'src');
  for (const file of sourceFiles(srcDir)) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      fileName: file,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, sourceMap: false },
    });
    const target = join(outDir, relative(srcDir, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, outputText);
  }
}

/**
 * node_modules as the image has it: the production packages (what `npm prune --omit=dev` keeps),
 * hard-linked, then trimmed by the same script the Dockerfile runs.
 */
async function productionModules(target: string): Promise<void> {
  const { stdout } = await run('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024,
  });
  const modules = join(root, 'node_modules') + sep;
  const topLevel = stdout
    .split('\n')
    .filter((path) => path.startsWith(modules))
    .map((path) => path.slice(modules.length))
    .filter((name) => /^(@[^/]+\/)?[^/@][^/]*$/.test(name));
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

interface Server {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startServer(app: string, env: Record<string, string>): Server {
  const child = spawn(process.execPath, ['dist/server.js'], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line));
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      if (stderr) lines.push({ stderr });
      resolve({ code, signal });
    }),
  );
  return { child, lines, exited };
}

/** The first log line that matches, once the process has written it (logs reach stdout asynchronously). */
async function logLine(server: Server, match: (entry: Record<string, unknown>) => boolean, what: string) {
  for (let i = 0; i < 600; i++) {
    const line = server.lines.find(match);
    if (line) return line;
    if (server.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no log line: ${what}; last lines ${JSON.stringify(server.lines.slice(-5))}`);
}

async function listening(server: Server): Promise<string> {
  const line = await logLine(
    server,
    (entry) => /^Server listening at http:\/\/127\.0\.0\.1:\d+$/.test(String(entry.msg)),
    'server listening',
  );
  return String(line.msg).replace('Server listening at ', '');
}

t.test('the server starts from the image layout as CMD starts it', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'pv-image-'));
  t.teardown(() => rmSync(base, { recursive: true, force: true }));
  const app = join(base, 'app');
  const data = join(base, 'data');
  const plugins = join(base, 'plugins');
  mkdirSync(data);
  mkdirSync(plugins);
  mkdirSync(app);

  compile(join(app, 'dist'));
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

  const server = startServer(app, {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    DATABASE_URL: `file:${join(data, 'phone-verify.db')}`,
    PLUGINS_DIR: plugins,
    HOST: '127.0.0.1',
    PORT: '0',
  });
  t.teardown(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });
  const origin = await listening(server);

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
  const sent = await logLine(
    server,
    (entry) => entry.backend === 'console' && typeof entry.message === 'string',
    'the console backend message',
  );
  const code = /security code (\d+)/.exec(String(sent?.message))?.[1];
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

  t.equal((await fetch(`${origin}/openapi.json`)).status, 200);
  const docs = await fetch(`${origin}/docs/static/swagger-ui-bundle.js`);
  t.equal(docs.status, 200, 'Swagger UI assets come from the production dependencies');
  await docs.arrayBuffer();
  t.match(
    await (await fetch(`${origin}/metrics`)).text(),
    /phone_verify_verifications_approved_total\{backend="console"\} 1/,
  );

  server.child.kill('SIGTERM');
  const { code: exitCode, signal } = await server.exited;
  t.equal(exitCode, 0, 'SIGTERM: exit 0');
  t.equal(signal, null);
  t.ok(
    server.lines.some((entry) => entry.msg === 'stopped'),
    'stopped after finishing in-flight requests',
  );
});
