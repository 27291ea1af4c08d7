// The service's statements on PostgreSQL, pipelined (node-postgres' `pipeline: true`,
// https://node-postgres.com/features/pipelining) and group-committed. Through the pool every
// statement held a connection for its whole round trip, left in a socket write of its own, and
// was its own transaction: one commit each, and one WAL flush (fdatasync) its backend waited for.
//
// Here statements go to a few connections in pipeline mode: a connection takes the next statement
// without waiting for the one before, and the statements given to one connection in one
// event-loop turn are sent together at setImmediate, in one socket write. With `groupCommit`
// (the default), when a turn gave a connection more than one statement, they run inside one
// transaction (BEGIN … COMMIT, in that same write): one commit and one WAL flush for all, and
// their answers come back together. On the benchmark's machine that took PostgreSQL from about
// 3,300 starts and verifies per second to 5,000–6,000 starts and 6,000–7,000 verifies (README
// "Performance").
//
// What each caller sees is what it saw with a transaction of its own:
// - it is answered only after that COMMIT succeeded (the same durability);
// - a statement that fails rolls its whole group back, so nothing of the group is stored; then
//   every statement of it runs again alone, in a transaction of its own, and is answered by that
//   (so a failing statement still fails alone, and no statement takes effect twice);
// - a group waits at most GROUP_LOCK_TIMEOUT for a row lock, then rolls back the same way: two
//   groups that would deadlock (on two connections or two replicas) give way at once instead of
//   after PostgreSQL's deadlock_timeout;
// - a connection lost before COMMIT was answered fails every statement of its group (whether it
//   committed is unknown, as for a lone statement whose answer was lost), and none runs again.
// As before, statements on one connection are answered in order: a statement waiting for a lock
// holds up those behind it. Transactions (pool.connect()) still get a pooled connection.
import type { Client, Pool, QueryConfig, QueryResult } from 'pg';

export interface PipelineOptions {
  /** connections the statements are spread over */
  connections?: number;
  /** statements given to one connection in one turn before the next one takes over */
  batch?: number;
  /** run the statements a connection gets in one turn in one transaction (default true) */
  groupCommit?: boolean;
  /** a connection failed outside any statement (e.g. the server closed it while idle) */
  onError?: (error: Error) => void;
}

export interface Pipeline {
  /** ends the pipelined connections (statements already sent are answered first) */
  close(): Promise<void>;
}

/**
 * How long a grouped transaction waits for a row lock before it gives up and its statements run
 * alone. Grouped transactions last a few milliseconds; a wait this long means a deadlock or a
 * lock held by something slow, which PostgreSQL would otherwise break only after its
 * deadlock_timeout (1 s by default).
 */
export const GROUP_LOCK_TIMEOUT = '100ms';
const BEGIN_GROUP = `BEGIN; SET LOCAL lock_timeout = '${GROUP_LOCK_TIMEOUT}'`;

interface Statement {
  config: QueryConfig;
  values: unknown[] | undefined;
  /** true once it was in a grouped transaction that rolled back: it now runs on its own */
  alone: boolean;
  resolve(result: QueryResult): void;
  reject(error: unknown): void;
}

interface Lane {
  client: Client;
  /** resolved once connected; rejected (and the lane dropped) if connecting fails */
  ready: Promise<void>;
  connected: boolean;
  /** statements sent or queued and not yet answered */
  inflight: number;
  /** this turn's statements, sent at setImmediate */
  queued: Statement[];
}

const PATCHED = Symbol.for('phone-verify.pg-pipeline');

/** The connection's socket, as far as it is used here. */
interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

/** A FATAL error ends the session: the server closes the connection right after it. */
const isFatal = (error: unknown) => (error as { severity?: string } | undefined)?.severity === 'FATAL';

/** Sends every `pool.query` through pipelined connections of the pool's own configuration. */
export function pipelineQueries(
  pool: Pool,
  { connections = 2, batch = 16, groupCommit = true, onError }: PipelineOptions = {},
): Pipeline {
  const target = pool as Pool & { [PATCHED]?: Pipeline };
  if (target[PATCHED]) return target[PATCHED];
  const lanes: (Lane | undefined)[] = new Array(connections).fill(undefined);
  const streamOf = (lane: Lane) =>
    (lane.client as unknown as { connection: { stream: Corkable } }).connection.stream;
  const isOpen = (lane: Lane) => !streamOf(lane).destroyed && !streamOf(lane).writableEnded;
  let closed = false;
  // The lane this event-loop turn's statements go to, until it has `batch` of them.
  let current: Lane | undefined;
  let flushScheduled = false;

  const drop = (lane: Lane) => {
    const index = lanes.indexOf(lane);
    if (index !== -1) lanes[index] = undefined;
    if (current === lane) current = undefined;
  };

  const open = (index: number): Lane => {
    const PoolClient = (pool as Pool & { Client: new (config: unknown) => Client }).Client;
    const client = new PoolClient({ ...(pool as unknown as { options: object }).options, pipeline: true });
    const lane: Lane = { client, ready: Promise.resolve(), connected: false, inflight: 0, queued: [] };
    // Without a listener, a connection the server drops while idle would crash the process.
    client.on('error', (error: Error) => {
      drop(lane);
      onError?.(error);
    });
    client.on('end', () => drop(lane));
    lane.ready = client.connect().then(
      () => {
        lane.connected = true;
      },
      (error: Error) => {
        drop(lane);
        throw error;
      },
    );
    lane.ready.catch(() => {}); // the statements waiting on it get the error
    lanes[index] = lane;
    return lane;
  };

  const pick = (): Lane => {
    if (current && current.queued.length < batch && lanes.includes(current)) return current;
    let chosen: Lane | undefined;
    for (let i = 0; i < lanes.length; i++) {
      const existing = lanes[i];
      if (existing && !isOpen(existing)) drop(existing);
      const lane = lanes[i] ?? open(i);
      if (!chosen || lane.inflight + lane.queued.length < chosen.inflight + chosen.queued.length) {
        chosen = lane;
      }
    }
    current = chosen!;
    return current;
  };

  /** Sends one statement in a transaction of its own. */
  const sendAlone = (lane: Lane, statement: Statement) => {
    lane.client.query(statement.config, statement.values).then(
      (result) => {
        lane.inflight -= 1;
        statement.resolve(result);
      },
      (error: unknown) => {
        lane.inflight -= 1;
        if (isFatal(error) || !isOpen(lane)) drop(lane);
        statement.reject(error);
      },
    );
  };

  /**
   * Sends `group` in one transaction. Each statement is answered once COMMIT succeeded. When the
   * transaction certainly rolled back (a statement failed, or waited too long for a lock), each
   * runs again alone; when that is not certain (the connection failed), each gets its own error
   * or, if it had none, the first one.
   */
  const sendGroup = (lane: Lane, group: Statement[]) => {
    const begin = lane.client.query(BEGIN_GROUP);
    const answers = group.map((statement) => lane.client.query(statement.config, statement.values));
    const commit = lane.client.query('COMMIT');
    Promise.allSettled([begin, ...answers, commit]).then((settled) => {
      lane.inflight -= group.length;
      const [began, ...results] = settled;
      const ended = results.pop()!;
      if (began!.status === 'fulfilled' && ended.status === 'fulfilled') {
        if ((ended.value as QueryResult).command === 'COMMIT') {
          for (let i = 0; i < group.length; i++) {
            const own = results[i]!;
            if (own.status === 'fulfilled') group[i]!.resolve(own.value as QueryResult);
            else group[i]!.reject(own.reason);
          }
          return;
        }
      }
      const failure = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected')?.reason;
      // COMMIT answered ROLLBACK, or failed with an ERROR on a live connection: nothing of the
      // transaction was stored, so running each statement again is safe.
      const rolledBack =
        began!.status === 'fulfilled' &&
        isOpen(lane) &&
        !isFatal(failure) &&
        (ended.status === 'fulfilled' || !isFatal(ended.reason));
      if (rolledBack) {
        for (const statement of group) {
          statement.alone = true;
          enqueue(statement);
        }
        return;
      }
      drop(lane);
      for (let i = 0; i < group.length; i++) {
        const own = results[i]!;
        group[i]!.reject(own.status === 'rejected' ? own.reason : failure);
      }
    });
  };

  /** Sends statements given to a lane in one turn, in one socket write. */
  const send = (lane: Lane, statements: Statement[]) => {
    lane.inflight += statements.length;
    const group = groupCommit ? statements.filter((statement) => !statement.alone) : [];
    const alone = group.length > 1 ? statements.filter((statement) => statement.alone) : statements;
    const stream = streamOf(lane);
    stream.cork();
    try {
      for (const statement of alone) sendAlone(lane, statement);
      if (group.length > 1) sendGroup(lane, group);
    } finally {
      stream.uncork();
    }
  };

  // Lanes given statements this turn: also those dropped since, whose statements then fail.
  const queuedLanes = new Set<Lane>();

  const flush = () => {
    flushScheduled = false;
    current = undefined;
    for (const lane of queuedLanes) {
      const statements = lane.queued;
      lane.queued = [];
      if (lane.connected) {
        send(lane, statements);
        continue;
      }
      // Not connected yet: send once it is (node-postgres would queue them, but then each
      // statement would leave in a write of its own), or fail them if it cannot connect.
      lane.inflight += statements.length;
      lane.ready.then(
        () => {
          lane.inflight -= statements.length;
          send(lane, statements);
        },
        (error: unknown) => {
          lane.inflight -= statements.length;
          for (const statement of statements) statement.reject(error);
        },
      );
    }
    queuedLanes.clear();
  };

  const enqueue = (statement: Statement) => {
    if (closed) {
      statement.reject(new Error('Cannot use a pool after calling end on the pool'));
      return;
    }
    const lane = pick();
    lane.queued.push(statement);
    queuedLanes.add(lane);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  (pool as { query: unknown }).query = (config: QueryConfig, values?: unknown[]) =>
    new Promise<QueryResult>((resolve, reject) => enqueue({ config, values, alone: false, resolve, reject }));

  const pipeline: Pipeline = {
    async close() {
      // What was given this turn is sent first, and answered before the connections end.
      if (flushScheduled) flush();
      closed = true;
      const live = lanes.filter((lane): lane is Lane => lane !== undefined);
      lanes.fill(undefined);
      await Promise.all(live.map((lane) => lane.client.end().catch(() => {})));
    },
  };
  target[PATCHED] = pipeline;
  return pipeline;
}
