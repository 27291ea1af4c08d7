// WAL checkpoints, mostly on a worker thread. SQLite's automatic checkpoint runs inside the COMMIT
// that crosses the threshold (1,000 pages), on the event loop: it copies the WAL's pages into the
// database file and, under synchronous = NORMAL, fsyncs both, while every request waits.
//
// Here a second connection on a worker thread runs a PASSIVE checkpoint every `intervalMs`: it
// copies what the writer committed so far without waiting for it or blocking it. That alone would
// never let the WAL file start over under steady writes (SQLite rewinds the WAL only when a write
// begins with every frame copied), so the service's connection keeps an automatic checkpoint, at
// `writerPages` instead of 1,000: rare, and with little left to copy (the worker has copied nearly
// everything), though its syncs still pause the event loop. The WAL file stays near `writerPages`
// pages. Should the worker fail, the connection checkpoints itself again at SQLite's usual
// threshold.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database as SqliteDatabase } from 'better-sqlite3';

/** SQLite's own threshold, restored when the worker is gone. */
export const AUTOCHECKPOINT_PAGES = 1000;
/**
 * How often the worker checkpoints. The more often, the less the writer's own checkpoints have to
 * sync (a shorter start p99 in the bench), for about 1 % of a core while the service is idle (a
 * pass with nothing to copy is cheap).
 */
export const CHECKPOINT_INTERVAL_MS = 10;
/** The writer's own threshold while the worker runs (~8 MB of WAL at 4 KiB pages). */
export const WRITER_CHECKPOINT_PAGES = 2000;

export interface BackgroundCheckpoint {
  /** Stops the worker; the connection's own automatic checkpoints resume. */
  stop(): Promise<void>;
}

export interface CheckpointOptions {
  intervalMs?: number;
  writerPages?: number;
  /** told once when the worker fails and the connection checkpoints itself again */
  onError?: (error: Error) => void;
}

// CommonJS in the worker (eval), so it needs no file of its own beside the compiled module.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true, timeout: 1000 });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    // SQLITE_BUSY: another checkpointer is at work; the next tick tries again.
    if (error.code !== 'SQLITE_BUSY') throw error;
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/** Moves most of `connection`'s checkpoint work to a worker thread with its own connection to `file`. */
export function checkpointInBackground(
  connection: SqliteDatabase,
  file: string,
  {
    intervalMs = CHECKPOINT_INTERVAL_MS,
    writerPages = WRITER_CHECKPOINT_PAGES,
    onError,
  }: CheckpointOptions = {},
): BackgroundCheckpoint {
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { driver, file, intervalMs },
    // It holds a timer and a connection: a small heap keeps its memory small.
    resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 },
    stdout: false,
    stderr: false,
  });
  // The worker never keeps the process alive; close() stops it.
  worker.unref();
  connection.pragma(`wal_autocheckpoint = ${writerPages}`);
  let running = true;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const restore = () => {
    if (!running) return;
    running = false;
    if (connection.open) connection.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  };
  worker.once('error', (error) => {
    restore();
    onError?.(error);
  });
  worker.once('exit', restore);
  return {
    async stop() {
      // Keeps the process alive until the worker has closed its connection, and also when it
      // failed: an unref'd worker's 'exit' would otherwise never arrive if nothing else is pending.
      worker.ref();
      if (running) worker.postMessage('stop');
      await exited;
      restore();
    },
  };
}
