// Prometheus metrics: the verification flow (through the service's observer hooks), SMS send
// latency, HTTP request durations and the process's default metrics. Each app instance has its own
// Registry, so several apps in one process (tests) never share or clash over metrics.
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionObserver, RefusalReason } from '../../abuse/admission.js';
import { numberFacts } from '../../abuse/number-facts.js';
import type { CheckOutcome, VerificationObserver } from '../../verification/service.js';

export interface Metrics {
  registry: Registry;
  /** sessions removed by retention purges */
  purged: Counter<never>;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: Metrics;
    /** hooks of the SMS-bill protections' metrics */
    admissionObserver: AdmissionObserver;
  }
}

/** Why a verification did not approve: a check's outcome, or the backend failing to send. */
export type FailureReason = Exclude<CheckOutcome, 'approved'> | 'send_failed';

export default fp(
  async (fastify) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });

    const started = new Counter({
      name: 'phone_verify_verifications_started_total',
      help: 'Verifications started (a code was generated and handed to the backend), by country of the number',
      labelNames: ['backend', 'country'] as const,
      registers: [registry],
    });
    const approved = new Counter({
      name: 'phone_verify_verifications_approved_total',
      help: 'Code checks that approved a verification, by country of the number',
      labelNames: ['backend', 'country'] as const,
      registers: [registry],
    });
    const failed = new Counter({
      name: 'phone_verify_verifications_failed_total',
      help: 'Code checks that did not approve, and sends that failed, by reason',
      labelNames: ['backend', 'reason'] as const,
      registers: [registry],
    });
    const sendDuration = new Histogram({
      name: 'phone_verify_sms_send_duration_seconds',
      help: "Time the SMS backend's sendSms took, by result",
      labelNames: ['backend', 'result'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [registry],
    });
    const httpDuration = new Histogram({
      name: 'phone_verify_http_request_duration_seconds',
      help: 'HTTP request durations by route template, method and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
    const failovers = new Counter({
      name: 'phone_verify_sms_failovers_total',
      help: 'Sends the primary backend failed and handed to the fallback backend',
      labelNames: ['backend', 'fallback'] as const,
      registers: [registry],
    });
    const deliveries = new Counter({
      name: 'phone_verify_deliveries_total',
      help: "Delivery receipts that settled a message's fate, by backend and status",
      labelNames: ['backend', 'status'] as const,
      registers: [registry],
    });
    const purged = new Counter({
      name: 'phone_verify_purged_verifications_total',
      help: 'Finished or expired verifications deleted by retention purges',
      registers: [registry],
    });

    const refused = new Counter({
      name: 'phone_verify_starts_refused_total',
      help: 'Starts refused before anything was sent, by the check that refused them',
      labelNames: ['reason'] as const,
      registers: [registry],
    });
    const wouldBlock = new Counter({
      name: 'phone_verify_fraud_guard_would_block_total',
      help: 'Starts the fraud guard would have refused (FRAUD_GUARD=monitor)',
      registers: [registry],
    });
    new Gauge({
      name: 'phone_verify_fraud_guard_blocked_prefixes',
      help: 'Destination prefixes the fraud guard blocks now',
      registers: [registry],
      async collect() {
        if (fastify.hasDecorator('admission')) this.set((await fastify.admission.blocks()).length);
      },
    });

    // Every label combination from the start, so rates work from the first scrape.
    const { backend, fallbackBackend } = fastify.config;
    if (fallbackBackend) failovers.inc({ backend, fallback: fallbackBackend }, 0);
    for (const name of fallbackBackend ? [backend, fallbackBackend] : [backend]) {
      for (const status of ['delivered', 'undelivered', 'failed'] as const)
        deliveries.inc({ backend: name, status }, 0);
    }
    for (const reason of [
      'ip_limit',
      'country',
      'number_type',
      'phone_limit',
      'resend_interval',
      'prefix_limit',
      'fraud_guard',
      'budget',
    ] satisfies RefusalReason[]) {
      refused.inc({ reason }, 0);
    }
    wouldBlock.inc(0);
    for (const reason of [
      'invalid',
      'expired',
      'already_verified',
      'too_many_attempts',
      'send_failed',
    ] satisfies FailureReason[]) {
      failed.inc({ backend, reason }, 0);
    }

    const observer: VerificationObserver = {
      started: (name, phoneNumber) =>
        started.inc({ backend: name, country: numberFacts(phoneNumber).country }),
      sent: (name, seconds, ok) => {
        sendDuration.observe({ backend: name, result: ok ? 'ok' : 'error' }, seconds);
        if (!ok) failed.inc({ backend: name, reason: 'send_failed' });
      },
      failedOver: (name, fallback) => failovers.inc({ backend: name, fallback }),
      delivered: (name, status) => deliveries.inc({ backend: name, status }),
      phoneLimited: () => refused.inc({ reason: 'phone_limit' }),
      checked: (name, outcome, phoneNumber) => {
        if (outcome === 'approved')
          approved.inc({ backend: name, country: numberFacts(phoneNumber).country });
        else failed.inc({ backend: name, reason: outcome });
      },
    };
    fastify.decorate('verificationObserver', observer);
    fastify.decorate('admissionObserver', {
      refused: (reason: RefusalReason) => refused.inc({ reason }),
      wouldBlock: () => wouldBlock.inc(),
    } satisfies AdmissionObserver);
    fastify.decorate('metrics', { registry, purged });

    fastify.addHook('onResponse', async (request, reply) => {
      // The route template keeps the label set bounded; unknown URLs share one label.
      const route = request.routeOptions.url ?? 'unmatched';
      httpDuration.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'metrics', dependencies: ['config'] },
);
