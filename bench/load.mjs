// One benchmark phase: autocannon drives one route with a fresh body per request, first for a
// warm-up (not counted), then for the measured duration while the service's CPU time and RSS are read.
import autocannon from 'autocannon';
import { cpuMs, rssMb } from './service.mjs';

/** Runs autocannon; `onResponse(statusCode, ms)` sees every response as it comes. */
function fire(options, onResponse) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
    if (onResponse) {
      instance.on('response', (_client, statusCode, _bytes, ms) => onResponse(statusCode, ms));
    }
  });
}

/**
 * Latencies of the 2xx answers, kept to the microsecond: autocannon's own percentiles are whole
 * milliseconds, too coarse at p50 ≈ 6 ms to tell 1.2× apart from 1.0× (6 → 7 ms reads as 1.17×).
 */
class Latencies {
  #values = new Float64Array(1 << 16);
  #count = 0;

  add(ms) {
    if (this.#count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2);
      grown.set(this.#values);
      this.#values = grown;
    }
    this.#values[this.#count++] = ms;
  }

  /** Percentiles (0–100) in ms, to 0.01 ms; null when nothing was recorded. */
  percentiles(...ps) {
    if (this.#count === 0) return ps.map(() => null);
    const sorted = this.#values.slice(0, this.#count).sort();
    return ps.map((p) => {
      const rank = Math.min(this.#count - 1, Math.max(0, Math.ceil((p / 100) * this.#count) - 1));
      return Math.round(sorted[rank] * 100) / 100;
    });
  }
}

/**
 * Runs POST `path` with bodies[0], bodies[1], … (wrapping around, which the result reports).
 * Returns req/s, latency percentiles, non-2xx count, the service's peak RSS and CPU ms per request.
 */
export async function runPhase({
  service,
  name,
  path,
  bodies,
  connections,
  duration,
  warmup,
  contentType = 'application/json',
}) {
  let next = 0;
  const base = {
    url: service.url,
    connections,
    requests: [
      {
        method: 'POST',
        path,
        headers: { 'content-type': contentType },
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
  const latencies = new Latencies();
  let result;
  try {
    result = await fire({ ...base, duration }, (statusCode, ms) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(ms);
    });
  } finally {
    clearInterval(sampler);
  }
  const cpu = cpuMs(service.pid) - cpuBefore;
  peakRss = Math.max(peakRss, rssMb(service.pid));
  const total = result.requests.total;
  const [p50Ms, p99Ms] = latencies.percentiles(50, 99);
  return {
    phase: name,
    reqPerSec: Math.round(total / result.duration),
    p50Ms,
    p99Ms,
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
