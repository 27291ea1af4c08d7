// Idempotent starts (Idempotency-Key on POST /v1/verifications, docs/idempotency.md): the first
// request with a key claims it in the database, runs, and stores its answer; a retry with the same
// key and body gets that answer again and runs nothing. The claim is one atomic statement, so of
// concurrent requests with one key (on any replica) exactly one runs; the others wait for its
// answer and replay it, or, if it takes too long, are told to retry (409 idempotency_key_in_use).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { IdempotencyKeyInUse, IdempotencyKeyMismatch, IdempotencyReplayUnavailable } from '../errors.js';
import type { IdempotentRequest } from './request-key.js';
import type { AnswerSealer, StoredAnswer } from './sealed-answer.js';

/** How long a key's answer is replayed. */
export const KEY_LIFETIME_MS = 24 * 60 * 60 * 1000;
/**
 * How long a claim holds before it counts as abandoned (its process died mid-request) and a retry
 * may run in its place: longer than any start can take (a send and a fallback send, two minutes
 * each at most, and the database statements around them).
 */
export const CLAIM_LEASE_MS = 5 * 60 * 1000;
/** Seconds a 409 idempotency_key_in_use tells the client to wait (Retry-After). */
export const IN_USE_RETRY_AFTER_SECONDS = 1;
/** Pauses between looks at a claim in flight: short at first, as most starts end within them. */
const POLL_DELAYS_MS = [10, 20, 50, 100, 200];

/** A key's row as stored. */
export interface StoredKey {
  fingerprint: string;
  status: 'pending' | 'done';
  /** the sealed answer (status done) */
  response: string | null;
}

/** A request's claim on a key: who holds it (`claim`), until when, and when the key expires. */
export interface KeyClaim {
  keyHash: string;
  fingerprint: string;
  claim: string;
  now: Date;
  lockedUntil: Date;
  expiresAt: Date;
}

export interface IdempotencyStore {
  /**
   * Claims the key for this request: inserts it pending, or takes over a row past its expiry or
   * a pending claim of the same body past its lease. False when the key is held.
   */
  claim(row: KeyClaim): Promise<boolean>;
  find(keyHash: string): Promise<StoredKey | null>;
  /** Stores the answer, if `claim` still holds the key. */
  complete(keyHash: string, claim: string, responseStatus: number, response: string): Promise<boolean>;
  /** Gives the key back (the answer is not one to replay), if `claim` still holds it. */
  release(keyHash: string, claim: string): Promise<void>;
}

export interface IdempotencySettings {
  /** how long a request waits for a concurrent one's answer before it answers 409 */
  waitMs: number;
  clock?: () => Date;
}

/** What a request with a key is to do. */
export type Admission = { kind: 'run'; claim: Claim } | { kind: 'replay'; answer: StoredAnswer };

/** A key this request holds: it stores its answer, or gives the key back, when it has one. */
export interface Claim {
  finish(answer: StoredAnswer, replayable: boolean): Promise<void>;
}

/**
 * An answer worth replaying is one a retry would not want run again: a session started (2xx), a
 * refusal that did not depend on the moment (4xx), and a failed send (502: the message may have
 * gone out all the same, and that session can never be verified). Not: an answer that says to
 * retry later (Retry-After: a limit or a block, which ends), nor a failure of the service itself
 * (500, 503), after which the retry runs again.
 */
export function isReplayable(status: number, retryAfter: boolean): boolean {
  if (retryAfter) return false;
  return (status >= 200 && status < 300) || (status >= 400 && status < 500) || status === 502;
}

export class IdempotentStarts {
  readonly #clock: () => Date;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly sealer: AnswerSealer,
    private readonly settings: IdempotencySettings,
  ) {
    this.#clock = settings.clock ?? (() => new Date());
  }

  /**
   * Claims the key, or finds the answer to replay. Throws 422 for another body with the key, 409
   * when the request that holds it is still running after the wait, and 409 when its answer no
   * longer opens (the secret changed).
   */
  async admit(request: IdempotentRequest): Promise<Admission> {
    const started = this.#clock().getTime();
    for (let attempt = 0; ; attempt++) {
      const claim = randomUUID();
      const now = this.#clock();
      const claimed = await this.store.claim({
        keyHash: request.keyHash,
        fingerprint: request.fingerprint,
        claim,
        now,
        lockedUntil: new Date(now.getTime() + CLAIM_LEASE_MS),
        expiresAt: new Date(now.getTime() + KEY_LIFETIME_MS),
      });
      if (claimed) return { kind: 'run', claim: this.#claim(request, claim) };

      const row = await this.store.find(request.keyHash);
      if (!row) continue; // given back (or purged) since: claim it again
      if (row.fingerprint !== request.fingerprint) throw new IdempotencyKeyMismatch();
      if (row.status === 'done' && row.response !== null) {
        const answer = this.sealer.open(request, row.response);
        if (!answer) throw new IdempotencyReplayUnavailable();
        return { kind: 'replay', answer };
      }
      if (this.#clock().getTime() - started >= this.settings.waitMs) {
        throw Object.assign(new IdempotencyKeyInUse(), {
          headers: { 'retry-after': String(IN_USE_RETRY_AFTER_SECONDS) },
        });
      }
      await sleep(POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)]);
    }
  }

  #claim(request: IdempotentRequest, claim: string): Claim {
    let finished = false;
    return {
      finish: async (answer, replayable) => {
        if (finished) return;
        finished = true;
        if (replayable) {
          const sealed = this.sealer.seal(request, answer);
          await this.store.complete(request.keyHash, claim, answer.status, sealed);
        } else {
          await this.store.release(request.keyHash, claim);
        }
      },
    };
  }
}
