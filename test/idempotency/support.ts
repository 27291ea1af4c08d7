// Shared by the idempotency tests: a start with an Idempotency-Key, backends that fail or hold
// their send until told, and the rows of idempotency_keys read straight from the database.
import { builtInBackends } from '../../src/backends/registry.js';
import { postJson, RecorderBackend, runSql, type TestApp } from '../helper.js';

export const START = '/v1/verifications';

export function start(
  target: TestApp,
  body: Record<string, unknown>,
  key: string | undefined,
  headers: Record<string, string> = {},
) {
  return postJson(
    target.app,
    START,
    body,
    key === undefined ? headers : { 'idempotency-key': key, ...headers },
  );
}

/** The messages the app's recorder backend was given. */
export function sends(target: TestApp): number {
  return (target.app.backend as RecorderBackend).sent.length;
}

/** Records each message, then fails the send (a provider that is down). */
export class FailingRecorder extends RecorderBackend {
  override sendSms(number: string, message: string): void {
    super.sendSms(number, message);
    throw new Error('provider down');
  }
}
export const FAILING_BACKEND = 'test-idempotency-failing';
builtInBackends[FAILING_BACKEND] ??= (options) => new FailingRecorder(options);

/** Records each message and holds the send until open() is called. */
export class GatedRecorder extends RecorderBackend {
  #open!: () => void;
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  #entered!: () => void;
  /** resolved once a send has begun */
  readonly entered = new Promise<void>((resolve) => {
    this.#entered = resolve;
  });

  open(): void {
    this.#open();
  }

  override async sendSms(number: string, message: string): Promise<void> {
    super.sendSms(number, message);
    this.#entered();
    await this.#gate;
  }
}
export const GATED_BACKEND = 'test-idempotency-gated';
builtInBackends[GATED_BACKEND] ??= (options) => new GatedRecorder(options);

export interface KeyRow {
  key_hash: string;
  fingerprint: string;
  status: string;
  claim: string | null;
  response_status: number | null;
  response: string | null;
  created_at: unknown;
  expires_at: unknown;
}

export async function keyRows(databaseUrl: string): Promise<KeyRow[]> {
  return (await runSql(databaseUrl, 'SELECT * FROM idempotency_keys')) as unknown as KeyRow[];
}

/** Moves every stored key's expiry into the past, as if 24 hours had gone by. */
export function expireKeys(databaseUrl: string): Promise<unknown> {
  const past = new Date(Date.now() - 60_000);
  return runSql(databaseUrl, 'UPDATE idempotency_keys SET expires_at = $1', [
    databaseUrl.startsWith('file:') ? past.toISOString() : past,
  ]);
}
