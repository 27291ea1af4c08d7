// The GuardStore in Redis: every replica sees the same counts, approvals and blocks.
import { hash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { AdmissionQuery, AdmissionResult, Approval, Block, GuardStore } from './guard-store.js';
import { ADMIT_SCRIPT, APPROVE_SCRIPT, LIFT_SCRIPT } from './redis-guard-script.js';

type GuardCommands = {
  guardAdmit(prefix: string, query: string): Promise<string>;
  guardApprove(prefix: string, keepMs: number, ...approvals: (string | number)[]): Promise<number>;
  guardLift(prefix: string, target: string): Promise<string | null>;
};

export class RedisGuardStore implements GuardStore {
  readonly #redis: Redis & GuardCommands;

  constructor(
    redis: Redis,
    private readonly keyPrefix: string,
  ) {
    // defineCommand sends EVALSHA, falling back to EVAL once when Redis does not know the script.
    redis.defineCommand('guardAdmit', { numberOfKeys: 0, lua: ADMIT_SCRIPT });
    redis.defineCommand('guardApprove', { numberOfKeys: 0, lua: APPROVE_SCRIPT });
    redis.defineCommand('guardLift', { numberOfKeys: 0, lua: LIFT_SCRIPT });
    this.#redis = redis as Redis & GuardCommands;
  }

  async admit(query: AdmissionQuery): Promise<AdmissionResult> {
    // The resend key is the number: hashed, so Redis holds no phone numbers.
    const wire = query.resend
      ? { ...query, resend: { ...query.resend, key: hash('sha256', query.resend.key, 'hex') } }
      : query;
    const answer = JSON.parse(await this.#redis.guardAdmit(this.keyPrefix, JSON.stringify(wire)));
    // cjson encodes an empty table as an object.
    return { ...answer, newBlocks: Array.isArray(answer.newBlocks) ? answer.newBlocks : [] };
  }

  async approve(approvals: Approval[], keepMs: number): Promise<void> {
    if (approvals.length === 0) return;
    const triples = approvals.flatMap(({ prefix, bucket, count }) => [prefix, `a${bucket}`, count]);
    await this.#redis.guardApprove(this.keyPrefix, keepMs, ...triples);
  }

  async blocks(now: number): Promise<Block[]> {
    const key = `${this.keyPrefix}blocks`;
    await this.#redis.zremrangebyscore(key, '-inf', now);
    const prefixes = await this.#redis.zrange(key, 0, -1);
    if (prefixes.length === 0) return [];
    const values = await this.#redis.mget(prefixes.map((prefix) => `${this.keyPrefix}block:${prefix}`));
    return values.flatMap((value) => (value ? [JSON.parse(value) as Block] : []));
  }

  async lift(prefix: string): Promise<Block | undefined> {
    const value = await this.#redis.guardLift(this.keyPrefix, prefix);
    return value ? (JSON.parse(value) as Block) : undefined;
  }
}
