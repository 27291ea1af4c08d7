// The start-up gate of the log: lines held while the service starts, written in order once it
// listens (or once the start takes long), forgotten when the start fails. The process-level
// behaviour (one line on stderr, nothing on stdout) is in server.test.ts.
import t from 'tap';
import { StartupLog } from '../src/startup-log.js';

function recorder() {
  const lines: string[] = [];
  let wrote: () => void = () => {};
  return {
    lines,
    write(line: string) {
      lines.push(line);
      wrote();
    },
    next: () => new Promise<void>((resolve) => (wrote = resolve)),
  };
}

t.test('held until release, then in order, then straight through', async (t) => {
  const out = recorder();
  const log = new StartupLog(out);
  log.write('a\n');
  log.write('b\n');
  t.same(out.lines, [], 'nothing written while starting');
  log.release();
  t.same(out.lines, ['a\n', 'b\n']);
  log.write('c\n');
  t.same(out.lines, ['a\n', 'b\n', 'c\n']);
  log.release();
  t.same(out.lines, ['a\n', 'b\n', 'c\n'], 'a second release writes nothing again');
});

t.test('a failed start forgets what it held', async (t) => {
  const out = recorder();
  const log = new StartupLog(out);
  log.write('API_KEYS is unset\n');
  log.discard();
  log.release();
  t.same(out.lines, []);
});

t.test('a slow start shows its lines once the hold time is over', async (t) => {
  const out = recorder();
  const written = out.next();
  const log = new StartupLog(out, 20);
  log.write('applying migrations\n');
  // The gate's timer does not keep a process alive; this test's wait must.
  const alive = setTimeout(() => {}, 10_000);
  await written;
  clearTimeout(alive);
  t.same(out.lines, ['applying migrations\n']);
  log.write('later\n');
  t.same(out.lines, ['applying migrations\n', 'later\n']);
});
