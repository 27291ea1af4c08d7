// One benchmark phase: autocannon drives one route with a fresh body per request, first for a
// warm-up (not counted), then for the measured duration while the service's CPU time and RSS are read.
import autocannon from 'autocannon';
import { cpuMs, rssMb } from './service.mjs';

function fire(options) {
  return new Promise((resolve, reject) => {
    autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * Runs POST `path` with bodies[0], bodies[1], … (wrapping around, which the result reports).
 * Returns req/s, latency percentiles, non-2xx count, the service's peak RSS and CPU ms per request.
 */
export async function runPhase({ service, name, path, bodies, connections, duration, warmup }) {
  let next = 0;
  const base = {
    url: service.url,
    connections,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': 'application/json' },
        setupRequest(request) {
          request.body = bodies[next++ % bodies.length];
          return request;
        },
      },
    ],
  };
  if (warmup > 0) await fire({ ...base, duration: warmup });
  const used = next;

  let peakRss = rssMb(service.pid);
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(service.pid));
  }, 250);
  const cpuBefore = cpuMs(service.pid);
  let result;
  try {
    result = await fire({ ...base, duration });
  } finally {
    clearInterval(sampler);
  }
  const cpu = cpuMs(service.pid) - cpuBefore;
  peakRss = Math.max(peakRss, rssMb(service.pid));
  const total = result.requests.total;
  return {
    phase: name,
    reqPerSec: Math.round(total / result.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    rssMb: Math.round(peakRss),
    cpuMsPerReq: total ? Number((cpu / total).toFixed(3)) : null,
    requests: total,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, count]),
    ),
    wrapped: next > bodies.length || used > bodies.length,
  };
}
