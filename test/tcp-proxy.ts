// A TCP proxy the tests control, standing between the app and a real server (Redis, PostgreSQL),
// to fail the network the ways a real one fails, for the app only:
// - stop(): refuses new connections and cuts the open ones (a server that went away); start()
//   again on the same port brings it back;
// - freeze(): every connection, open or new, stays up but nothing passes in either direction (a
//   server or network gone silent); thaw() delivers what was held back and carries on;
// - blackhole(): connections are accepted and never answered, nothing reaches the server (a host
//   that accepts TCP but whose server never speaks); open(): back to normal for new connections.
import { readFileSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Test } from 'tap';

/** The ports a proxy picks from: below the kernel's ephemeral range (32768 on by default). */
const FIXED_PORTS = ((): { low: number; high: number } => {
  let ephemeralLow = 32_768;
  try {
    const range = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    ephemeralLow = Number(range[0]) || ephemeralLow;
  } catch {} // not Linux: the usual default
  return { low: Math.min(10_000, ephemeralLow - 1_000), high: ephemeralLow };
})();

/** One proxied connection: the app's side and the server's, and what a freeze held back. */
interface Link {
  client: Socket;
  upstream: Socket;
  /** chunks held back while frozen, in order, with the socket each goes to */
  held: [Socket, Buffer][];
}

export class TcpProxy {
  #server: Server | undefined;
  readonly #links = new Set<Link>();
  /** sockets accepted in blackhole mode: never answered */
  readonly #swallowed = new Set<Socket>();
  #frozen = false;
  #blackhole = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /**
   * Listens on 127.0.0.1: the first time on a free port below the ephemeral range, then on that
   * same port after each stop. Not an ephemeral port, because while the proxy is stopped an
   * outgoing connection of any process could be given that port, and the restart would find it
   * taken; the kernel never hands out ports below the range on its own.
   */
  async start(): Promise<void> {
    if (this.port !== 0) {
      this.#server = await this.#listen(this.port);
      return;
    }
    for (let tries = 1; ; tries++) {
      const port = FIXED_PORTS.low + Math.floor(Math.random() * (FIXED_PORTS.high - FIXED_PORTS.low));
      try {
        this.#server = await this.#listen(port);
        this.port = port;
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EADDRINUSE' || tries >= 100) throw error;
      }
    }
  }

  #listen(port: number): Promise<Server> {
    const server = createServer((client) => (this.#blackhole ? this.#swallow(client) : this.#link(client)));
    return new Promise<Server>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  }

  /** Refuses new connections and cuts the open ones, as a server that went away. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const { client, upstream } of this.#links) {
      client.destroy();
      upstream.destroy();
    }
    this.#links.clear();
    for (const socket of this.#swallowed) socket.destroy();
    this.#swallowed.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Keeps every connection open (and accepts new ones) but passes nothing on: a server that hangs. */
  freeze(): void {
    this.#frozen = true;
  }

  /** Passes on what the freeze held back, then everything as before. */
  thaw(): void {
    this.#frozen = false;
    for (const link of this.#links) {
      for (const [to, chunk] of link.held.splice(0)) if (!to.destroyed) to.write(chunk);
    }
  }

  /** New connections are accepted and then never answered; open ones carry on. */
  blackhole(): void {
    this.#blackhole = true;
  }

  /** New connections reach the server again; those swallowed meanwhile are cut. */
  open(): void {
    this.#blackhole = false;
    for (const socket of this.#swallowed) socket.destroy();
    this.#swallowed.clear();
  }

  /** How many connections the proxy carries to the server now. */
  get connections(): number {
    return this.#links.size;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  #swallow(client: Socket): void {
    this.#swallowed.add(client);
    client.on('data', () => {}); // read and drop
    client.on('error', () => client.destroy());
    client.on('close', () => this.#swallowed.delete(client));
  }

  #link(client: Socket): void {
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const link: Link = { client, upstream, held: [] };
    this.#links.add(link);
    const forward = (to: Socket) => (chunk: Buffer) => {
      if (this.#frozen || link.held.length > 0) link.held.push([to, chunk]);
      else to.write(chunk);
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
    for (const socket of [client, upstream]) {
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      // One side closed: close the other.
      socket.on('close', () => {
        this.#links.delete(link);
        client.destroy();
        upstream.destroy();
      });
    }
  }
}

/** A started proxy in front of the server of `url` (stopped when the test ends), and the URL through it. */
export async function proxyInFrontOf(t: Test, url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const direct = new URL(url);
  const proxy = new TcpProxy(direct.hostname, Number(direct.port || 5432));
  await proxy.start();
  t.teardown(() => proxy.stop());
  const viaProxy = new URL(direct);
  viaProxy.port = String(proxy.port);
  return { proxy, url: viaProxy.toString() };
}

/** Polls until `condition` holds, failing after `timeoutMs` (a deadline, not a timing assertion). */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
