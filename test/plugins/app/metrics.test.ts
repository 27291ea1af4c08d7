// /metrics moves as the verification flow runs: starts, approvals, failures by reason, send
// latency, HTTP durations by route template; and each app keeps its own registry.
import Fastify from 'fastify';
import t from 'tap';
import { loadConfig } from '../../../src/config.js';
import configPlugin from '../../../src/plugins/app/config.js';
import metrics from '../../../src/plugins/app/metrics.js';
import { build, postJson, startVerification, type TestApp } from '../../helper.js';

/** The value of one sample line, e.g. metric('x_total{backend="console"}'). */
async function scrape(target: TestApp): Promise<(sample: string) => number | undefined> {
  const reply = await target.app.inject('/metrics');
  const lines = reply.body.split('\n');
  return (sample) => {
    const line = lines.find((candidate) => candidate.startsWith(`${sample} `));
    return line === undefined ? undefined : Number(line.slice(sample.length + 1));
  };
}

const FAILED = (reason: string) =>
  `phone_verify_verifications_failed_total{backend="console",reason="${reason}"}`;

t.test('metrics follow the flow', async (t) => {
  const target = await build(t, {
    env: { PHONE_VERIFICATION_BACKEND: 'console', PHONE_VERIFICATION_MAX_FAILED_ATTEMPTS: '2' },
  });

  const first = await target.app.inject('/metrics');
  t.equal(first.statusCode, 200);
  t.match(first.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  t.match(first.body, /^# HELP process_cpu_user_seconds_total/m, 'default process metrics');
  t.match(first.body, /^nodejs_eventloop_lag_seconds /m);
  let metric = await scrape(target);
  t.equal(metric('phone_verify_starts_refused_total{reason="fraud_guard"}'), 0, 'present from the start');
  t.equal(metric(FAILED('expired')), 0);

  const started = await startVerification(target);
  const verify = (code: string) =>
    postJson(target.app, '/v1/verifications/verify', {
      phone_number: started.phone_number,
      security_code: code,
      session_token: started.session_token,
    });
  const wrong = started.code === '000000' ? '111111' : '000000';
  t.equal((await verify(wrong)).statusCode, 400);
  t.equal((await verify(started.code)).statusCode, 200);
  t.equal((await verify(started.code)).statusCode, 400);

  const locked = await startVerification(target, '+14155550199');
  for (let i = 0; i < 3; i++) {
    await postJson(target.app, '/v1/verifications/verify', {
      phone_number: locked.phone_number,
      security_code: locked.code === '000000' ? '111111' : '000000',
      session_token: locked.session_token,
    });
  }

  metric = await scrape(target);
  t.equal(metric('phone_verify_verifications_started_total{backend="console",country="US"}'), 2);
  t.equal(metric('phone_verify_verifications_approved_total{backend="console",country="US"}'), 1);
  t.equal(metric(FAILED('invalid')), 3, 'wrong codes, the one reaching the lock included');
  t.equal(metric(FAILED('already_verified')), 1);
  t.equal(metric(FAILED('too_many_attempts')), 1);
  t.equal(metric(FAILED('send_failed')), 0);
  t.equal(metric('phone_verify_sms_send_duration_seconds_count{backend="console",result="ok"}'), 2);
  t.ok(
    (metric('phone_verify_sms_send_duration_seconds_sum{backend="console",result="ok"}') ?? -1) >= 0,
    'send latency observed',
  );
  t.equal(
    metric(
      'phone_verify_http_request_duration_seconds_count{method="POST",route="/v1/verifications",status_code="201"}',
    ),
    2,
  );
  t.equal(
    metric(
      'phone_verify_http_request_duration_seconds_count{method="POST",route="/v1/verifications/verify",status_code="429"}',
    ),
    1,
  );

  await target.app.inject(`/v1/verifications/${started.id}`);
  await target.app.inject('/no/such/path/123');
  metric = await scrape(target);
  t.equal(
    metric(
      'phone_verify_http_request_duration_seconds_count{method="GET",route="/v1/verifications/:id",status_code="200"}',
    ),
    1,
    'labelled by route template, not by URL',
  );
  t.equal(
    metric(
      'phone_verify_http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}',
    ),
    1,
    'unknown URLs share one label',
  );
});

t.test('a failed send counts as send_failed with an error latency (plugin on a bare Fastify)', async (t) => {
  // Only the console backend is built in here, and it cannot fail: drive the observer the
  // verification service calls after a failed sendSms.
  const app = Fastify();
  t.teardown(() => app.close());
  await app.register(configPlugin, { config: loadConfig({}) });
  await app.register(metrics);
  await app.ready();
  app.verificationObserver.started?.('twilio', '+14155550100');
  app.verificationObserver.sent?.('twilio', 0.3, false);
  const body = await app.metrics.registry.metrics();
  t.match(body, /^phone_verify_verifications_failed_total\{backend="twilio",reason="send_failed"\} 1$/m);
  t.match(body, /^phone_verify_sms_send_duration_seconds_count\{backend="twilio",result="error"\} 1$/m);
  t.match(
    body,
    /^phone_verify_sms_send_duration_seconds_bucket\{le="0\.25",backend="twilio",result="error"\} 0$/m,
  );
  t.match(
    body,
    /^phone_verify_sms_send_duration_seconds_bucket\{le="0\.5",backend="twilio",result="error"\} 1$/m,
  );
});

t.test('each app has its own registry', async (t) => {
  const one = await build(t, { env: { PHONE_VERIFICATION_BACKEND: 'console' } });
  const two = await build(t, { env: { PHONE_VERIFICATION_BACKEND: 'console' } });
  await startVerification(one);
  const metricOne = await scrape(one);
  const metricTwo = await scrape(two);
  t.equal(metricOne('phone_verify_verifications_started_total{backend="console",country="US"}'), 1);
  t.equal(metricTwo('phone_verify_verifications_started_total{backend="console",country="US"}') ?? 0, 0);
});
