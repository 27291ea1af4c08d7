// The service's statements on PostgreSQL, pipelined (node-postgres' `pipeline: true`,
// https://node-postgres.com/features/pipelining). Through the pool every statement holds a
// connection for its whole round trip and leaves in a socket write of its own; on the virtualised
// 2-core machine of README "Performance" such a write cost ~180 µs of CPU, a third of the service's
// CPU under load. Here statements go to a few connections in pipeline mode instead: each is still
// sent with its own Sync, so it runs in its own implicit transaction and fails alone, exactly as
// through the pool; but a connection takes the next statement without waiting for the one before,
// and the statements given to one connection in one event-loop turn leave in one write (its socket
// is corked until setImmediate). Transactions (pool.connect()) still get a pooled connection.
import type { Client, Pool, QueryConfig } from 'pg';

export interface PipelineOptions {
  /** connections the statements are spread over */
  connections?: number;
  /** statements given to one connection in one turn before the next one takes over */
  batch?: number;
  /** a connection failed outside any statement (e.g. the server closed it while idle) */
  onError?: (error: Error) => void;
}

export interface Pipeline {
  /** ends the pipelined connections (statements already sent are answered first) */
  close(): Promise<void>;
}

interface Lane {
  client: Client;
  /** resolved once connected; rejected (and the lane dropped) if connecting fails */
  ready: Promise<void>;
  connected: boolean;
  /** statements sent or queued and not yet answered */
  inflight: number;
}

const PATCHED = Symbol.for('phone-verify.pg-pipeline');

/** The connection's socket, as far as it is used here. */
interface Corkable {
  cork(): void;
  uncork(): void;
  readonly destroyed: boolean;
  readonly writableEnded: boolean;
}

/** Sends every `pool.query` through pipelined connections of the pool's own configuration. */
export function pipelineQueries(
  pool: Pool,
  { connections = 2, batch = 16, onError }: PipelineOptions = {},
): Pipeline {
  const target = pool as Pool & { [PATCHED]?: Pipeline };
  if (target[PATCHED]) return target[PATCHED];
  const lanes: (Lane | undefined)[] = new Array(connections).fill(undefined);
  const streamOf = (lane: Lane) =>
    (lane.client as unknown as { connection: { stream: Corkable } }).connection.stream;
  const isOpen = (lane: Lane) => !streamOf(lane).destroyed && !streamOf(lane).writableEnded;
  let closed = false;
  // The lane this event-loop turn's statements go to; its socket stays corked until the turn ends.
  let current: Lane | undefined;

  const drop = (lane: Lane) => {
    const index = lanes.indexOf(lane);
    if (index !== -1) lanes[index] = undefined;
    if (current === lane) current = undefined;
  };

  const open = (index: number): Lane => {
    const PoolClient = (pool as Pool & { Client: new (config: unknown) => Client }).Client;
    const client = new PoolClient({ ...(pool as unknown as { options: object }).options, pipeline: true });
    const lane: Lane = { client, ready: Promise.resolve(), connected: false, inflight: 0 };
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
    if (current && current.inflight < batch && lanes.includes(current)) return current;
    let chosen: Lane | undefined;
    for (let i = 0; i < lanes.length; i++) {
      const existing = lanes[i];
      if (existing && !isOpen(existing)) drop(existing);
      const lane = lanes[i] ?? open(i);
      if (!chosen || lane.inflight < chosen.inflight) chosen = lane;
    }
    const lane = chosen!;
    current = lane;
    const stream = streamOf(lane);
    stream.cork();
    setImmediate(() => {
      stream.uncork();
      if (current === lane) current = undefined;
    });
    return lane;
  };

  const send = async (lane: Lane, config: QueryConfig, values?: unknown[]) => {
    lane.inflight++;
    try {
      if (!lane.connected) await lane.ready;
      return await lane.client.query(config, values);
    } catch (error) {
      // A FATAL error ends the session (the server closes the connection right after it, before
      // the client sees the close): statements of this turn must not follow it there.
      if ((error as { severity?: string }).severity === 'FATAL' || !isOpen(lane)) drop(lane);
      throw error;
    } finally {
      lane.inflight--;
    }
  };

  (pool as { query: unknown }).query = (config: QueryConfig, values?: unknown[]) => {
    if (closed) return Promise.reject(new Error('Cannot use a pool after calling end on the pool'));
    return send(pick(), config, values);
  };

  const pipeline: Pipeline = {
    async close() {
      closed = true;
      const live = lanes.filter((lane): lane is Lane => lane !== undefined);
      lanes.fill(undefined);
      await Promise.all(live.map((lane) => lane.client.end().catch(() => {})));
    },
  };
  target[PATCHED] = pipeline;
  return pipeline;
}
