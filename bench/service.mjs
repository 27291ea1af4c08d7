// The service under test as a child process: built if dist/ is missing or older than the sources,
// started exactly as `npm start` starts it (node dist/server.js, production, info logging), watched
// through /proc (CPU time, RSS), and always stopped.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = join(ROOT, 'dist', 'server.js');

export function distModule(path) {
  return pathToFileURL(join(ROOT, 'dist', path)).href;
}

function newestMtime(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/** Runs `npm run build` when dist/server.js is missing or older than src/, prisma/ or package.json. */
export function ensureBuilt(log) {
  let built = 0;
  try {
    built = statSync(SERVER).mtimeMs;
  } catch {}
  const sources = Math.max(
    newestMtime(join(ROOT, 'src')),
    newestMtime(join(ROOT, 'prisma')),
    newestMtime(join(ROOT, 'package.json')),
  );
  if (built >= sources) return;
  log(built ? 'dist/ is older than the sources: building' : 'dist/ is missing: building');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new Error('npm run build failed');
}

/**
 * A custom backend that sends nothing and always generates the bench's code, loaded by the service
 * from PLUGINS_DIR like any operator's plugin; validation stays the base, store-backed path.
 */
export function writeNullSender(pluginsDir, code) {
  writeFileSync(
    join(pluginsDir, 'null-sender.mjs'),
    `import { BaseBackend } from 'phone-verify';
export class NullBackend extends BaseBackend {
  sendSms() {}
  generateSecurityCode() { return ${JSON.stringify(code)}; }
}
`,
  );
  return 'null-sender.NullBackend';
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The service's log tail, for a failure message. */
function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Every service child not yet known to have exited, so that an interrupt can stop them all. */
const children = new Set();

/** SIGKILL for what is still running when the bench exits (the SIGTERM path did not finish). */
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Stops every service started here (SIGTERM, then SIGKILL after 10 s). */
export function stopAllServices() {
  return Promise.all([...children].map((child) => child.stop()));
}

/** Starts node dist/server.js; resolves once /readyz answers 200. */
export async function startService({ env, logFile, nodeArgs = [] }) {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, SERVER], {
    cwd: ROOT,
    env: { ...process.env, ...env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited = null;
  const exit = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      children.delete(child);
      resolve(exited);
    }),
  );
  child.stop = async () => {
    if (exited) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  children.add(child);
  const url = `http://127.0.0.1:${port}`;
  const service = { pid: child.pid, url, stop: child.stop };
  const deadline = Date.now() + 120_000;
  while (!exited) {
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) return service;
    } catch {}
    if (Date.now() > deadline) {
      await service.stop();
      throw new Error(`the service did not become ready in 120 s:\n${tail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `the service exited (${exited.code ?? exited.signal}) before it was ready:\n${tail(logFile)}`,
  );
}

const TICK_MS = 1000 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** CPU time (user + system) the process has used so far, in ms, from /proc/<pid>/stat. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

/** Resident set size in MB, from /proc/<pid>/status. */
export function rssMb(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : 0;
}
