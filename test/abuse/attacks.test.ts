// The two shapes of SMS pumping the fraud guard must stop, and the real users it must never
// refuse, over HTTP in scaled time (a 300-ms grace for 2 minutes, thresholds at their defaults).
// One replica on SQLite here; two on PostgreSQL sharing Redis in attacks-replicas.test.ts.
import t, { type Test } from 'tap';
import { blockOf, CONCENTRATED_RANGE } from '../../bench/fraud-traffic.mjs';
import { build, metric, postJson, type TestApp } from '../helper.js';
import {
  attack,
  BLOCK_SECONDS,
  type Block,
  listBlocks,
  numbers,
  realUsers,
  SCALED_GUARD,
  startOn,
  type UserOutcome,
} from './attack-traffic.js';

function assertNobodyRefused(t: Test, users: UserOutcome[]) {
  const refused = users.filter((u) => u.status !== 201);
  t.same(
    refused.map((u) => `${u.number} ${u.status} ${u.code}`),
    [],
    `none of ${users.length} real users refused`,
  );
  const wrong = users.filter((u) => u.converts && u.status === 201 && u.verifyStatus !== 200);
  t.same(
    wrong.map((u) => `${u.number} ${u.verifyStatus}`),
    [],
    'every user who typed the right code was approved',
  );
}

/** Fresh numbers of the attacked range are refused as blocked, with a Retry-After up to the block. */
async function assertBlocked(t: Test, target: TestApp, fresh: string[], minShare: number) {
  const outcomes = await Promise.all(fresh.map((number) => startOn(target, number)));
  const blocked = outcomes.filter((o) => o.status === 403 && o.code === 'destination_blocked');
  t.ok(
    blocked.length >= Math.ceil(minShare * fresh.length),
    `${blocked.length} of ${fresh.length} fresh attack numbers answered 403 destination_blocked`,
  );
  for (const o of blocked) {
    const seconds = Number(o.retryAfter);
    if (!(Number.isInteger(seconds) && seconds > 0 && seconds <= BLOCK_SECONDS)) {
      t.fail(
        `Retry-After ${JSON.stringify(o.retryAfter)} on ${o.number}: expected 1–${BLOCK_SECONDS} seconds`,
      );
      return;
    }
  }
  t.pass('every destination_blocked has a Retry-After of at most FRAUD_GUARD_BLOCK');
}

function assertBlockShape(t: Test, blocks: Block[]) {
  for (const block of blocks) {
    t.match(block.prefix, /^\+\d+$/, `${block.prefix}: a "+"-prefixed digit string`);
    t.ok(Date.parse(block.until) > Date.now(), `${block.prefix}: until is ahead`);
    t.ok(Date.parse(block.blocked_at) <= Date.now(), `${block.prefix}: blocked_at is past`);
    t.ok(block.starts >= 20, `${block.prefix}: at least FRAUD_GUARD_MIN_STARTS judged starts`);
    t.ok(block.approvals < 0.1 * block.starts, `${block.prefix}: conversion under 0.1`);
  }
}

t.test('a concentrated attack on 100 blocks of one range is blocked; real users never are', async (t) => {
  const target = await build(t, { env: SCALED_GUARD });
  const { source, random } = numbers(1);
  const attackNumbers: string[] = [];
  const [run, before] = await Promise.all([
    attack({
      targets: [target],
      next: () => {
        const number = source.concentrated();
        attackNumbers.push(number);
        return number;
      },
      batch: 8,
      everyMs: 20,
      maxStarts: 1_500,
      afterBlocked: 200,
    }),
    // Real users of ten countries, the United Kingdom among them, during the attack.
    realUsers({ starts: [target], source, random, count: 80, everyMs: 20 }),
  ]);
  t.ok(run.engagedAt !== undefined, `the guard engaged (after ${run.engagedAt?.toFixed(0)} ms)`);
  t.ok(new Set(attackNumbers.map(blockOf)).size >= 80, 'the attack spread over (most of) 100 blocks');
  const after = run.outcomes.filter((o) => run.engagedAt !== undefined && o.sentAt >= run.engagedAt);
  const stopped = after.filter((o) => o.status !== 201).length;
  t.ok(
    stopped >= 0.95 * after.length,
    `${stopped} of ${after.length} starts stopped after the guard engaged`,
  );

  const blocks = await listBlocks(target);
  t.ok(
    blocks.some((b) => attackNumbers.some((n) => n.startsWith(b.prefix))),
    `a block covers the attacked range (${blocks.map((b) => b.prefix).join(', ')})`,
  );
  assertBlockShape(t, blocks);
  await assertBlocked(
    t,
    target,
    Array.from({ length: 30 }, () => source.concentrated()),
    1,
  );
  t.ok(
    (await metric(target, 'phone_verify_fraud_guard_blocked_prefixes')) >= 1,
    'the gauge counts the block',
  );
  t.ok(
    (await metric(target, 'phone_verify_starts_refused_total', { reason: 'fraud_guard' })) >= stopped,
    'refusals counted with reason fraud_guard',
  );

  // Real users after the attack, British ones included, are still served.
  const later = await realUsers({ starts: [target], source, random, count: 40, everyMs: 5 });
  const british = await realUsers({
    starts: [target],
    source,
    random,
    count: 20,
    everyMs: 5,
    countries: ['GB'],
  });
  assertNobodyRefused(t, [...before, ...later, ...british]);

  // Lifting the blocks: the range is served again, and its counts start afresh.
  for (const block of blocks) {
    const lifted = await target.app.inject({
      method: 'DELETE',
      url: `/v1/fraud-guard/blocks/${encodeURIComponent(block.prefix)}`,
    });
    t.equal(lifted.statusCode, 204, `DELETE ${block.prefix}`);
  }
  t.same(await listBlocks(target), [], 'no block left');
  t.equal((await startOn(target, source.concentrated())).status, 201, 'the range is served again');
});

t.test('a thin attack that never starts a block twice is blocked; real users never are', async (t) => {
  const target = await build(t, { env: SCALED_GUARD });
  const { source, random } = numbers(2);
  const attackNumbers: string[] = [];
  const [run, before] = await Promise.all([
    attack({
      targets: [target],
      next: () => {
        const number = source.thin();
        attackNumbers.push(number);
        return number;
      },
      batch: 8,
      everyMs: 20,
      maxStarts: 2_000,
      afterBlocked: 200,
    }),
    realUsers({ starts: [target], source, random, count: 80, everyMs: 20 }),
  ]);
  t.equal(new Set(attackNumbers.map(blockOf)).size, attackNumbers.length, 'no block was started twice');
  t.ok(run.engagedAt !== undefined, `the guard engaged (after ${run.engagedAt?.toFixed(0)} ms)`);
  const after = run.outcomes.filter((o) => run.engagedAt !== undefined && o.sentAt >= run.engagedAt);
  const stopped = after.filter((o) => o.status !== 201).length;
  t.ok(
    stopped >= 0.95 * after.length,
    `${stopped} of ${after.length} starts stopped after the guard engaged`,
  );

  const blocks = await listBlocks(target);
  t.ok(
    blocks.some((b) => attackNumbers.some((n) => n.startsWith(b.prefix))),
    `a block covers the attacked range (${blocks.map((b) => b.prefix).join(', ')})`,
  );
  assertBlockShape(t, blocks);
  await assertBlocked(
    t,
    target,
    Array.from({ length: 40 }, () => source.thin()),
    0.95,
  );
  const later = await realUsers({ starts: [target], source, random, count: 40, everyMs: 5 });
  assertNobodyRefused(t, [...before, ...later]);
});

t.test('real users alone, converting at 60 % with late typers, are never refused', async (t) => {
  const target = await build(t, { env: SCALED_GUARD });
  const { source, random } = numbers(3);
  // One block of 10,000 numbers with many users (a company's phones, a new operator's range) beside
  // users spread over ten countries: both get judged, neither may be blocked.
  const dense = Array.from({ length: 45 }, (_, i) => `+1415555${String(1000 + i * 7).padStart(4, '0')}`);
  const [denseUsers, spread] = await Promise.all([
    realUsers({
      starts: [target],
      source,
      random,
      count: dense.length,
      everyMs: 15,
      conversion: 0.6,
      numbers: dense,
    }),
    realUsers({ starts: [target], source, random, count: 300, everyMs: 4, conversion: 0.6 }),
  ]);
  // Starts after the grace, so the guard judges everything above.
  await new Promise((resolve) => setTimeout(resolve, 400));
  const more = await realUsers({ starts: [target], source, random, count: 60, everyMs: 5, conversion: 0.6 });
  assertNobodyRefused(t, [...denseUsers, ...spread, ...more]);
  t.same(await listBlocks(target), [], 'nothing blocked');
  t.equal(await metric(target, 'phone_verify_fraud_guard_blocked_prefixes'), 0, 'gauge at 0');
});

t.test('monitor mode blocks nothing and counts what it would block', async (t) => {
  const target = await build(t, { env: { ...SCALED_GUARD, FRAUD_GUARD: 'monitor' } });
  const { source, random } = numbers(4);
  const [run, users] = await Promise.all([
    attack({ targets: [target], next: () => source.concentrated(), batch: 8, everyMs: 20, maxStarts: 500 }),
    realUsers({ starts: [target], source, random, count: 40, everyMs: 25 }),
  ]);
  await new Promise((resolve) => setTimeout(resolve, 400));
  const late = await attack({
    targets: [target],
    next: () => source.concentrated(),
    batch: 10,
    everyMs: 0,
    maxStarts: 100,
  });
  const answers = [...run.outcomes, ...late.outcomes].filter((o) => o.status !== 201);
  t.same(
    answers.map((o) => `${o.status} ${o.code}`),
    [],
    'every attack start was sent',
  );
  assertNobodyRefused(t, users);
  t.ok(
    (await metric(target, 'phone_verify_fraud_guard_would_block_total')) > 0,
    'phone_verify_fraud_guard_would_block_total counted',
  );
  t.equal(await metric(target, 'phone_verify_starts_refused_total', { reason: 'fraud_guard' }), 0);
  t.same(await listBlocks(target), [], 'no block listed');
  t.equal(await metric(target, 'phone_verify_fraud_guard_blocked_prefixes'), 0, 'gauge at 0');
});

t.test('the safe list lets an attacked range through', async (t) => {
  const target = await build(t, { env: { ...SCALED_GUARD, FRAUD_GUARD_SAFE_LIST: CONCENTRATED_RANGE } });
  const { source } = numbers(5);
  const run = await attack({
    targets: [target],
    next: () => source.concentrated(),
    batch: 8,
    everyMs: 20,
    maxStarts: 500,
  });
  await new Promise((resolve) => setTimeout(resolve, 400));
  const late = await attack({
    targets: [target],
    next: () => source.concentrated(),
    batch: 10,
    everyMs: 0,
    maxStarts: 60,
  });
  t.same(
    [...run.outcomes, ...late.outcomes].filter((o) => o.status !== 201).map((o) => `${o.status} ${o.code}`),
    [],
    'every start to the safe-listed range was sent',
  );
  const body = (await postJson(target.app, '/v1/verifications', { phone_number: source.thin() })).statusCode;
  t.equal(body, 201, 'other numbers are served as usual');
});
