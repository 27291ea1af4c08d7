// The fraud simulation's traffic driven through test apps in scaled time (milliseconds for
// minutes): real users who type the code they were sent, and SMS pumping that never does. Numbers
// come from bench/fraud-traffic.mjs, the generator `npm run bench:fraud` uses.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type NumberSource,
  numberSource,
  REAL_USER_COUNTRIES,
  seededRandom,
} from '../../bench/fraud-traffic.mjs';
import { postJson, type TestApp } from '../helper.js';

/** The guard's windows in scaled time; its thresholds stay at their defaults. */
export const SCALED_GUARD = {
  FRAUD_GUARD_WINDOW: '30 seconds',
  FRAUD_GUARD_GRACE: '300',
  FRAUD_GUARD_BLOCK: '1 hour',
};
export const GRACE_MS = 300;
export const BLOCK_SECONDS = 3600;

export interface StartOutcome {
  number: string;
  status: number;
  /** the problem's `code` when refused */
  code?: string;
  retryAfter?: string;
  /** the session's token when the start was answered 201 */
  sessionToken?: string;
  /** ms since the driver began, when the start was sent */
  sentAt: number;
}

export interface UserOutcome extends StartOutcome {
  country: string;
  converts: boolean;
  /** the verify's status when the user typed the code */
  verifyStatus?: number;
}

export async function startOn(target: TestApp, number: string, sentAt = 0): Promise<StartOutcome> {
  const reply = await postJson(target.app, '/v1/verifications', { phone_number: number });
  const outcome: StartOutcome = { number, status: reply.statusCode, sentAt };
  if (reply.statusCode === 201) outcome.sessionToken = reply.json().session_token;
  else {
    outcome.code = reply.json().code;
    const retryAfter = reply.headers['retry-after'];
    if (retryAfter !== undefined) outcome.retryAfter = String(retryAfter);
  }
  return outcome;
}

/** A seeded source of numbers, per test, so every run sends the same traffic. */
export function numbers(seed: number): { source: NumberSource; random: ReturnType<typeof seededRandom> } {
  const random = seededRandom(seed);
  return { source: numberSource(random), random };
}

export interface AttackOptions {
  /** replicas the starts go to, round-robin */
  targets: TestApp[];
  next: () => string;
  /** starts sent together every `everyMs` */
  batch: number;
  everyMs: number;
  maxStarts: number;
  /** stop this many starts after the first destination_blocked answer */
  afterBlocked?: number;
}

export interface AttackRun {
  outcomes: StartOutcome[];
  /** ms since the attack began when the first destination_blocked answer came, if one did */
  engagedAt: number | undefined;
}

/** Pumping: starts to fresh numbers that are never verified, in batches, until told to stop. */
export async function attack(options: AttackOptions): Promise<AttackRun> {
  const began = performance.now();
  const outcomes: StartOutcome[] = [];
  let engagedAt: number | undefined;
  let turn = 0;
  while (outcomes.length < options.maxStarts) {
    const sentAt = performance.now() - began;
    const batch = Array.from({ length: Math.min(options.batch, options.maxStarts - outcomes.length) }, () =>
      startOn(options.targets[turn++ % options.targets.length]!, options.next(), sentAt),
    );
    for (const outcome of await Promise.all(batch)) {
      outcomes.push(outcome);
      if (outcome.code === 'destination_blocked' && engagedAt === undefined) {
        engagedAt = performance.now() - began;
      }
    }
    if (engagedAt !== undefined && options.afterBlocked !== undefined) {
      const after = outcomes.filter((o) => o.sentAt >= engagedAt!).length;
      if (after >= options.afterBlocked) break;
    }
    await sleep(Math.max(0, options.everyMs - (performance.now() - began - sentAt)));
  }
  return { outcomes, engagedAt };
}

export interface RealUsersOptions {
  /** where each user starts, round-robin */
  starts: TestApp[];
  /** where each user types the code: the next replica after the one it started on */
  verifies?: TestApp[];
  source: NumberSource;
  random: ReturnType<typeof seededRandom>;
  count: number;
  everyMs: number;
  /** share of users that type their code; default each country's own (60–90 %) */
  conversion?: number;
  /** numbers to use first (a dense block, say), before fresh ones */
  numbers?: string[];
  /** the countries to draw from (default all ten) */
  countries?: string[];
}

/**
 * Real users arriving every `everyMs`: each starts, and most type the right code after a delay
 * with the shape of people's (median 60 ms here, about one in a hundred after the 300-ms grace).
 */
export async function realUsers(options: RealUsersOptions): Promise<UserOutcome[]> {
  const { random, source } = options;
  const countries = REAL_USER_COUNTRIES.filter(
    (c) => !options.countries || options.countries.includes(c.country),
  );
  const began = performance.now();
  const users: Promise<UserOutcome>[] = [];
  for (let i = 0; i < options.count; i++) {
    const entry = countries[i % countries.length]!;
    const number = options.numbers?.[i] ?? source.realUser(entry.country);
    const converts = random.next() < (options.conversion ?? entry.conversion);
    const typingMs = Math.min(1_000, random.logNormal(GRACE_MS / 5, 0.7));
    const startOnApp = options.starts[i % options.starts.length]!;
    const verifies = options.verifies ?? options.starts;
    const verifyOnApp = verifies[(i + 1) % verifies.length]!;
    users.push(
      (async () => {
        const outcome: UserOutcome = {
          ...(await startOn(startOnApp, number, performance.now() - began)),
          country: entry.country,
          converts,
        };
        if (outcome.status !== 201 || !converts) return outcome;
        const code = startOnApp.lastCode(number);
        await sleep(typingMs);
        const reply = await postJson(verifyOnApp.app, '/v1/verifications/verify', {
          phone_number: number,
          session_token: outcome.sessionToken,
          security_code: code,
        });
        outcome.verifyStatus = reply.statusCode;
        return outcome;
      })(),
    );
    await sleep(options.everyMs);
  }
  return Promise.all(users);
}

export interface Block {
  prefix: string;
  blocked_at: string;
  until: string;
  starts: number;
  approvals: number;
}

/** GET /v1/fraud-guard/blocks, checked for its shape. */
export async function listBlocks(target: TestApp): Promise<Block[]> {
  const reply = await target.app.inject({ method: 'GET', url: '/v1/fraud-guard/blocks' });
  if (reply.statusCode !== 200) throw new Error(`GET /v1/fraud-guard/blocks answered ${reply.statusCode}`);
  return reply.json().blocks;
}
