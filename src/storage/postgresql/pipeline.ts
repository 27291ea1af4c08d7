// Group commit on PostgreSQL, over pipelined connections (node-postgres' documented `pipeline: true`
// client option, https://node-postgres.com/features/pipelining). Through a pool each statement is a
// transaction of its own: one commit and one WAL flush its backend waits for, and a round trip
// that holds a connection. Here the statements of one event-loop turn go to a few pipelined
// connections ("lanes"), each taking the next statement without waiting for the one before; when a
// turn gives a lane more than one, they run inside one transaction (BEGIN, the statements, COMMIT,
// sent together): one commit and one flush for all, their answers back together.
//
// What each caller sees is what it saw with a transaction of its own:
// - it is answered only after that COMMIT succeeded (the same durability);
// - a statement that fails rolls its group back, so nothing of the group is stored; then every
//   statement of the group runs again alone, on the pool, and is answered by that (a failing
//   statement still fails alone, and none takes effect twice);
// - a lane's connection waits at most LANE_LOCK_TIMEOUT_MS for a row lock: a statement (or group)
//   that would wait longer gives way and runs again alone on the pool, with the full deadline, so
//   a lock held elsewhere holds up only the statements that need it, never a lane's others;
// - a connection lost (or silent past its deadline) before COMMIT was answered fails every
//   statement it carried, whether it committed being unknown, as for a lone statement whose
//   answer was lost; none runs again.
import pg from 'pg';
import { DatabaseUnreachable } from '../unavailable.js';

/** How long a statement on a lane waits for a row lock before it gives way to the pool. */
export const LANE_LOCK_TIMEOUT_MS = 100;
/** Statements one turn gives one lane before the next lane takes over. */
const BATCH = 16;

export interface PipelineOptions {
  /** the pool's connection settings, the lanes' own timeouts added */
  client: pg.ClientConfig;
  /** lanes the statements are spread over */
  lanes: number;
  /** runs a statement alone, on the pool: the statements a group or a lock wait gave back */
  alone(query: pg.QueryConfig): Promise<pg.QueryResult>;
  /** a lane failed outside any statement (e.g. the server closed it while idle) */
  onError?: (error: Error) => void;
}

interface Queued {
  query: pg.QueryConfig;
  resolve(result: pg.QueryResult): void;
  reject(error: unknown): void;
}

interface Lane {
  client: pg.Client;
  /** resolved once connected; rejected (and the lane dropped) if connecting fails */
  ready: Promise<void>;
  connected: boolean;
  /** set on 'error' or 'end': the lane takes nothing more */
  closed: boolean;
  /** statements sent and not yet answered */
  inflight: number;
  /** this turn's statements, sent at setImmediate */
  queued: Queued[];
}

const severityOf = (error: unknown) => (error as { severity?: unknown } | null)?.severity;
/** A lock wait past the lane's lock_timeout. */
const isLockTimeout = (error: unknown) => (error as { code?: unknown } | null)?.code === '55P03';

export class Pipeline {
  readonly #options: PipelineOptions;
  readonly #lanes: (Lane | undefined)[];
  /** the lane this turn's statements go to, until it has BATCH of them */
  #current: Lane | undefined;
  /** lanes given statements this turn */
  readonly #turn = new Set<Lane>();
  #scheduled = false;
  #closed = false;

  constructor(options: PipelineOptions) {
    this.#options = options;
    this.#lanes = new Array(options.lanes).fill(undefined);
  }

  query(query: pg.QueryConfig): Promise<pg.QueryResult> {
    return new Promise((resolve, reject) => {
      if (this.#closed) {
        reject(new Error('the database is closed'));
        return;
      }
      const lane = this.#pick();
      lane.queued.push({ query, resolve, reject });
      this.#turn.add(lane);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Sends what this turn queued, then ends the lanes once their statements are answered. */
  async close(): Promise<void> {
    if (this.#scheduled) this.#flush();
    this.#closed = true;
    const live = this.#lanes.filter((lane): lane is Lane => lane !== undefined);
    this.#lanes.fill(undefined);
    await Promise.all(live.map((lane) => lane.client.end().catch(() => {})));
  }

  #drop(lane: Lane): void {
    lane.closed = true;
    const index = this.#lanes.indexOf(lane);
    if (index !== -1) this.#lanes[index] = undefined;
    if (this.#current === lane) this.#current = undefined;
  }

  #open(index: number): Lane {
    const client = new pg.Client({
      ...this.#options.client,
      pipeline: true,
      lock_timeout: LANE_LOCK_TIMEOUT_MS,
    });
    const lane: Lane = {
      client,
      ready: Promise.resolve(),
      connected: false,
      closed: false,
      inflight: 0,
      queued: [],
    };
    // Without a listener, a connection the server drops while idle would end the process.
    client.on('error', (error: Error) => {
      this.#drop(lane);
      this.#options.onError?.(error);
    });
    client.on('end', () => this.#drop(lane));
    lane.ready = client.connect().then(
      () => {
        lane.connected = true;
      },
      (error: unknown) => {
        this.#drop(lane);
        // node-postgres' connect timeout is a bare Error('timeout expired'): say what failed. An
        // error the server itself reported (a wrong password) stays as it is.
        throw severityOf(error) === undefined ? new DatabaseUnreachable(error) : error;
      },
    );
    lane.ready.catch(() => {}); // the statements waiting on it get the error
    this.#lanes[index] = lane;
    return lane;
  }

  /** The current lane until it has a full batch, else the least busy one (opened if need be). */
  #pick(): Lane {
    const current = this.#current;
    if (current && !current.closed && current.queued.length < BATCH) return current;
    let chosen: Lane | undefined;
    for (let i = 0; i < this.#lanes.length; i++) {
      const lane = this.#lanes[i] ?? this.#open(i);
      if (!chosen || lane.inflight + lane.queued.length < chosen.inflight + chosen.queued.length)
        chosen = lane;
    }
    this.#current = chosen!;
    return chosen!;
  }

  #flush = (): void => {
    this.#scheduled = false;
    this.#current = undefined;
    for (const lane of this.#turn) {
      const statements = lane.queued;
      lane.queued = [];
      lane.inflight += statements.length;
      const send = () => {
        if (statements.length === 1) this.#sendOne(lane, statements[0]!);
        else this.#sendGroup(lane, statements);
      };
      if (lane.connected) send();
      else
        lane.ready.then(send, (error: unknown) => {
          lane.inflight -= statements.length;
          for (const statement of statements) statement.reject(error);
        });
    }
    this.#turn.clear();
  };

  /** Runs one statement again on the pool, answering its caller from there. */
  #alone(statement: Queued): void {
    this.#options.alone(statement.query).then(statement.resolve, statement.reject);
  }

  /** One statement, a transaction of its own; a lock wait sends it to the pool. */
  #sendOne(lane: Lane, statement: Queued): void {
    lane.client.query(statement.query).then(
      (result) => {
        lane.inflight -= 1;
        statement.resolve(result);
      },
      (error: unknown) => {
        lane.inflight -= 1;
        if (severityOf(error) !== 'ERROR') this.#drop(lane);
        // A statement that failed on its own changed nothing: safe to run again.
        if (isLockTimeout(error)) this.#alone(statement);
        else statement.reject(error);
      },
    );
  }

  /**
   * The statements in one transaction, each answered once COMMIT succeeded. When the transaction
   * certainly rolled back (a statement failed, or waited too long for a lock), each runs again
   * alone on the pool; when that is not certain (the connection failed), each fails.
   */
  #sendGroup(lane: Lane, group: Queued[]): void {
    const { client } = lane;
    const sent = [
      client.query('BEGIN'),
      ...group.map((statement) => client.query(statement.query)),
      client.query('COMMIT'),
    ];
    Promise.allSettled(sent).then((settled) => {
      lane.inflight -= group.length;
      const began = settled[0]!;
      const ended = settled[settled.length - 1]!;
      const answers = settled.slice(1, -1);
      if (ended.status === 'fulfilled' && (ended.value as pg.QueryResult).command === 'COMMIT') {
        answers.forEach((answer, i) => {
          if (answer.status === 'fulfilled') group[i]!.resolve(answer.value as pg.QueryResult);
          else group[i]!.reject(answer.reason);
        });
        return;
      }
      const failures = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
      // Every error an ERROR of one statement, on a connection still up, and COMMIT answered
      // (ROLLBACK, since the transaction failed) or refused with an ERROR: nothing was stored.
      const rolledBack =
        began.status === 'fulfilled' &&
        !lane.closed &&
        failures.every((f) => severityOf(f.reason) === 'ERROR');
      if (rolledBack) {
        for (const statement of group) this.#alone(statement);
        return;
      }
      this.#drop(lane);
      const cause = failures[0]?.reason ?? new Error('the connection ended before COMMIT was answered');
      answers.forEach((answer, i) => {
        group[i]!.reject(answer.status === 'rejected' ? answer.reason : cause);
      });
    });
  }
}
