// The SMS-bill protections a start passes after the per-IP limit, in the order of
// docs/sms-bill-protection.md, "The order of checks": test numbers (which skip the rest),
// destination policy, then the resend interval, the per-prefix limit, the fraud guard and the SMS
// budget (one store call).
// A refusal is thrown as the error the API answers with; refused starts count toward nothing.
import type { Config } from '../config.js';
import { DestinationBlocked, DestinationNotAllowed, RateLimited } from '../errors.js';
import {
  type Approval,
  type Block,
  bucketSizeMs,
  type GuardQuery,
  type GuardStore,
  type StoreRefusal,
} from './guard-store.js';
import { numberFacts } from './number-facts.js';
import { blockOf, isSafeListed, levelsOf } from './prefixes.js';

/** Why a start was refused, as the `reason` label of phone_verify_starts_refused_total. */
export type RefusalReason =
  | 'ip_limit'
  | 'country'
  | 'number_type'
  | 'phone_limit'
  | 'resend_interval'
  | 'prefix_limit'
  | 'fraud_guard'
  | 'budget';

export interface AdmissionObserver {
  refused?(reason: RefusalReason): void;
  wouldBlock?(): void;
  blocksChanged?(): void;
}

export interface AdmissionLogger {
  warn(object: object, message: string): void;
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

type Settings = Pick<
  Config,
  | 'allowedCountries'
  | 'deniedCountries'
  | 'deniedNumberTypes'
  | 'phoneResendIntervalMs'
  | 'prefixRateLimit'
  | 'fraudGuard'
  | 'smsBudget'
  | 'testPhoneNumbers'
  | 'testPhoneNumbersUntil'
>;

function seconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

export class Admission {
  readonly #bucketMs: number;
  readonly #keepMs: number;
  /** TEST_PHONE_NUMBERS; a Map because every start and verify looks a number up in it */
  readonly #testCodes: Map<string, string>;

  constructor(
    private readonly settings: Settings,
    private readonly store: GuardStore,
    private readonly log: AdmissionLogger,
    private readonly observer: AdmissionObserver = {},
    private readonly clock: () => number = Date.now,
  ) {
    const { windowMs, graceMs } = settings.fraudGuard;
    this.#bucketMs = bucketSizeMs(windowMs, graceMs);
    this.#keepMs = windowMs + graceMs + 2 * this.#bucketMs;
    this.#testCodes = new Map(Object.entries(settings.testPhoneNumbers));
  }

  /** The fixed code of a test number while TEST_PHONE_NUMBERS applies; undefined otherwise. */
  testCode(e164: string): string | undefined {
    if (this.#testCodes.size === 0) return undefined;
    const code = this.#testCodes.get(e164);
    if (code === undefined) return undefined;
    const until = this.settings.testPhoneNumbersUntil;
    return until && this.clock() >= until.getTime() ? undefined : code;
  }

  /** Country and number type; before the per-number limit. */
  checkDestination(e164: string): void {
    const { allowedCountries, deniedCountries, deniedNumberTypes } = this.settings;
    const facts = numberFacts(e164);
    if (
      (allowedCountries.length > 0 && !allowedCountries.includes(facts.country)) ||
      deniedCountries.includes(facts.country)
    ) {
      this.observer.refused?.('country');
      throw new DestinationNotAllowed(
        `This service does not send codes to numbers of this country (${facts.country}).`,
      );
    }
    if (deniedNumberTypes.includes(facts.type)) {
      this.observer.refused?.('number_type');
      throw new DestinationNotAllowed(
        `This service does not send codes to numbers of this type (${facts.type}).`,
      );
    }
  }

  /** The resend interval, the prefix limit, the fraud guard and the budget: one store call. */
  async admit(e164: string): Promise<void> {
    const { phoneResendIntervalMs, prefixRateLimit, fraudGuard, smsBudget } = this.settings;
    const now = this.clock();
    const safe = isSafeListed(e164, fraudGuard.safeList);
    const guard = this.#guardQuery(e164, safe);
    const result = await this.store.admit({
      now,
      resend: phoneResendIntervalMs > 0 ? { key: e164, intervalMs: phoneResendIntervalMs } : undefined,
      prefixLimit: safe
        ? undefined
        : { key: blockOf(e164), max: prefixRateLimit.max, windowMs: prefixRateLimit.windowMs },
      guard,
      budget: smsBudget,
    });
    for (const block of result.newBlocks) this.#logBlock(block, guard?.enforce ?? true);
    if (result.newBlocks.length > 0) this.observer.blocksChanged?.();
    if (result.wouldRefuse) this.observer.wouldBlock?.();
    if (result.refused) throw this.#refusal(result.refused, result.retryAfterMs ?? 1000);
  }

  /** An approval reaches the guard (from any replica: the store is shared). */
  async approved(e164: string, startedAt: Date): Promise<void> {
    const { fraudGuard } = this.settings;
    if (fraudGuard.mode === 'off' || isSafeListed(e164, fraudGuard.safeList) || this.testCode(e164)) return;
    if (this.clock() - startedAt.getTime() > fraudGuard.windowMs + fraudGuard.graceMs) return;
    const bucket = Math.floor(startedAt.getTime() / this.#bucketMs);
    const approvals: Approval[] = [];
    for (const { prefix } of levelsOf(e164, numberFacts(e164), fraudGuard.minStarts)) {
      approvals.push({ prefix, bucket, count: 1 });
    }
    try {
      await this.store.approve(approvals, this.#keepMs);
    } catch (error) {
      // The approval itself stands; the guard only misses one conversion.
      this.log.error({ err: { message: (error as Error).message } }, 'fraud guard: approval not counted');
    }
  }

  async blocks(): Promise<Block[]> {
    return this.store.blocks(this.clock());
  }

  async lift(prefix: string): Promise<Block | undefined> {
    const block = await this.store.lift(prefix);
    if (block) {
      this.log.info(
        {
          prefix,
          starts: block.starts,
          approvals: block.approvals,
          until: new Date(block.until).toISOString(),
        },
        'fraud guard: block lifted by an operator',
      );
      this.observer.blocksChanged?.();
    }
    return block;
  }

  #guardQuery(e164: string, safe: boolean): GuardQuery | undefined {
    const { fraudGuard } = this.settings;
    if (fraudGuard.mode === 'off' || safe) return undefined;
    return {
      levels: levelsOf(e164, numberFacts(e164), fraudGuard.minStarts),
      windowMs: fraudGuard.windowMs,
      graceMs: fraudGuard.graceMs,
      bucketMs: this.#bucketMs,
      minConversion: fraudGuard.minConversion,
      blockMs: fraudGuard.blockMs,
      enforce: fraudGuard.mode === 'enforce',
    };
  }

  #logBlock(block: Block, enforced: boolean): void {
    this.log.warn(
      {
        prefix: block.prefix,
        starts: block.starts,
        approvals: block.approvals,
        until: new Date(block.until).toISOString(),
        mode: enforced ? 'enforce' : 'monitor',
      },
      enforced
        ? 'fraud guard: prefix blocked (its verifications are not being completed)'
        : 'fraud guard (monitor): prefix would be blocked; nothing refused',
    );
  }

  #refusal(reason: StoreRefusal, retryAfterMs: number): Error {
    this.observer.refused?.(reason);
    const retry = seconds(retryAfterMs);
    const headers = { 'retry-after': retry };
    if (reason === 'fraud_guard') {
      return Object.assign(
        new DestinationBlocked(
          `Verifications to this destination are paused after unusual traffic; retry in ${retry} second(s).`,
        ),
        { headers },
      );
    }
    const what = {
      resend_interval: 'A code was sent to this number moments ago',
      prefix_limit: 'Too many verifications to numbers like this one',
      budget: 'This service has sent as many messages as it may for now',
    }[reason];
    return Object.assign(new RateLimited(`${what}; retry in ${retry} second(s).`), { headers });
  }
}
