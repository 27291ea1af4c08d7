// The service as a process, the way users run it (`node dist/server.js`, or `npm start`): started
// with a clean environment (no tap loader in NODE_OPTIONS, no developer settings), in a folder of
// the test's own (so no .env of the checkout is read), and followed through its output: ready when
// it logs "Server listening at", never by polling. dist/ is rebuilt first when src/ is newer.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';

export const SERVICE_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const SERVER = join(SERVICE_ROOT, 'dist', 'server.js');

/** What every child gets: enough to find node and npm, nothing that configures them. */
export const BASE_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? '/tmp',
  npm_config_update_notifier: 'false',
};

/** The newest modification time under a folder, for files matching a pattern. */
function newest(dir: string, pattern: RegExp): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !pattern.test(entry.name)) continue;
    latest = Math.max(latest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return latest;
}

/** Compiles dist/ unless it is already newer than every source (CI builds in `npm ci`). */
export function ensureBuilt(): void {
  const src = join(SERVICE_ROOT, 'src');
  const dist = join(SERVICE_ROOT, 'dist');
  if (existsSync(SERVER) && newest(dist, /\.js$/) >= newest(src, /\.ts$/)) return;
  const [command, args] = existsSync(join(src, 'generated'))
    ? [
        process.execPath,
        [join(SERVICE_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      ]
    : ['npm', ['run', 'build']];
  execFileSync(command as string, args as string[], { cwd: SERVICE_ROOT, env: BASE_ENV, stdio: 'pipe' });
}

/** A folder removed when the test ends. */
export function scratchDir(t: Test, prefix = 'pv-process-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT, from its "Server listening at" line */
  url: string;
  /** stdout and stderr so far */
  output(): string;
  /** resolves when some output matches (the log may trail the HTTP answer) */
  waitFor(pattern: RegExp): Promise<RegExpExecArray>;
  exited: Promise<number | null>;
}

export interface SpawnOptions {
  /** the command; default node dist/server.js */
  command?: string[];
  /** the working directory; default a new scratch folder */
  cwd?: string;
}

function run(t: Test, env: Record<string, string>, options: SpawnOptions) {
  const [command, ...args] = options.command ?? [process.execPath, SERVER];
  const child = spawn(command!, args, {
    cwd: options.cwd ?? scratchDir(t),
    env: { ...BASE_ENV, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: teardown kills npm *and* the node it started.
    detached: true,
  });
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {} // the group is already gone
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', (chunk) => {
    stdout += chunk;
    changed();
  });
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    changed();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const output = () => stdout + stderr;
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output());
        if (match) {
          listeners.delete(check);
          resolve(match);
        }
      };
      listeners.add(check);
      check();
      exited.then(() => {
        check();
        if (listeners.delete(check)) reject(new Error(`exited before ${pattern}:\n${output()}`));
      });
    });
  return { child, output, waitFor, exited, streams: () => ({ stdout, stderr }) };
}

/** Starts the service and resolves once it listens (killed when the test ends). */
export async function startService(
  t: Test,
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<ServiceProcess> {
  const running = run(t, env, options);
  const [, url] = await running.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
  return { ...running, url: url! };
}

/** Runs a start expected to fail: its exit code and what it wrote on each stream. */
export async function startRefused(
  t: Test,
  env: Record<string, string>,
  options: SpawnOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const running = run(t, env, options);
  const code = await running.exited;
  return { code, ...running.streams() };
}
