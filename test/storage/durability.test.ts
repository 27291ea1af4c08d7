// Every start the service acknowledged (201) survives kill -9 of the process, on SQLite and
// PostgreSQL: a write is answered only after the COMMIT of its group, so a crash can lose only
// requests that were never answered.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import t, { type Test } from 'tap';
import { DATABASES, databaseUrl, runSql } from '../helper.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function killedUnderLoad(t: Test, url: string): Promise<string[]> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: url,
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'silent',
      RATE_LIMIT_MAX: '100000',
      PHONE_RATE_LIMIT_MAX: '100000',
      PREFIX_RATE_LIMIT_MAX: '100000',
    },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(() => child.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {}
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const acknowledged: string[] = [];
  let killed = false;
  const client = async (n: number) => {
    for (let i = 0; !killed; i++) {
      try {
        const reply = await fetch(`${base}/v1/verifications`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ phone_number: `+1415555${String((n * 500 + i) % 10000).padStart(4, '0')}` }),
        });
        if (reply.status === 201) acknowledged.push(((await reply.json()) as { id: string }).id);
      } catch {
        return; // the process is gone
      }
    }
  };
  const clients = Array.from({ length: 20 }, (_, n) => client(n));
  while (acknowledged.length < 100) await new Promise((resolve) => setTimeout(resolve, 5));
  child.kill('SIGKILL');
  killed = true;
  await exited;
  await Promise.all(clients);
  return acknowledged;
}

for (const kind of DATABASES) {
  t.test(`${kind}: every acknowledged start survives kill -9`, async (t) => {
    const url = await databaseUrl(t, kind);
    if (!url) return;
    const acknowledged = await killedUnderLoad(t, url);
    const stored = new Set((await runSql(url, 'SELECT id FROM verifications')).map((row) => String(row.id)));
    const lost = acknowledged.filter((id) => !stored.has(id));
    t.ok(acknowledged.length >= 100, `${acknowledged.length} starts acknowledged before the kill`);
    t.same(lost, [], 'none of them lost');
  });
}
