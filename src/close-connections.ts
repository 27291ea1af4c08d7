// Keep-alive connections during a graceful stop. Node's server.close() closes the connections that
// are idle at that moment and waits for the others; one whose request was still running stays
// open after its answer (keep-alive, 72 s by default) until its client lets go, so the stop would
// wait for it and end in the grace period's exit 1. Here every answer given while stopping says
// `Connection: close` (Node then ends the connection after it, and the client knows not to send
// another request on it), and connections that still turn idle are closed as they do.
import type { FastifyInstance } from 'fastify';

/** How often connections that turned idle during a stop are closed. */
const IDLE_SWEEP_MS = 100;

export function closeConnectionsOnStop(server: FastifyInstance): void {
  let stopping = false;
  server.addHook('onSend', (_request, reply, payload, done) => {
    if (stopping) reply.header('connection', 'close');
    done(null, payload);
  });
  server.addHook('preClose', (done) => {
    stopping = true;
    // An answer whose headers went out just before the stop still kept its connection alive.
    const sweep = setInterval(() => server.server.closeIdleConnections(), IDLE_SWEEP_MS);
    sweep.unref();
    server.server.once('close', () => clearInterval(sweep));
    done();
  });
}
