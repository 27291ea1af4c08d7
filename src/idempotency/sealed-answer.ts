// The stored answer of an idempotent start, sealed with AES-256-GCM under a key derived with
// HKDF-SHA-256 from the server secret and the client's Idempotency-Key: the answer holds a session
// token, and a database dump alone (which has neither the secret nor the key, only its hash)
// replays nothing. The row's key hash and body fingerprint are bound in as associated data, so a
// sealed answer copied onto another row does not open.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { IdempotentRequest } from './request-key.js';

/** An HTTP answer as it left the service, to be replayed byte for byte. */
export interface StoredAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** The format tag of what seal() writes, so a later format can be told apart. */
const VERSION = 'v1';
const SALT = Buffer.from('phone-verify idempotency-key answer', 'utf8');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class AnswerSealer {
  readonly #secret: Buffer;

  /** `secret`: SERVER_SECRET, or (unset) random bytes this process alone holds. */
  constructor(secret: Buffer) {
    this.#secret = secret;
  }

  #key(request: IdempotentRequest): Buffer {
    const info = Buffer.from(`${request.scope}\0${request.key}`, 'utf8');
    return Buffer.from(hkdfSync('sha256', this.#secret, SALT, info, 32));
  }

  #associatedData(request: IdempotentRequest): Buffer {
    return Buffer.from(`${VERSION}\0${request.keyHash}\0${request.fingerprint}`, 'utf8');
  }

  seal(request: IdempotentRequest, answer: StoredAnswer): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key(request), iv);
    cipher.setAAD(this.#associatedData(request));
    const plain = Buffer.from(JSON.stringify([answer.status, answer.contentType, answer.body]), 'utf8');
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${sealed.toString('base64')}`;
  }

  /** The answer, or undefined when it does not open: sealed under another secret, or altered. */
  open(request: IdempotentRequest, sealed: string): StoredAnswer | undefined {
    const [version, data] = sealed.split('.');
    if (version !== VERSION || data === undefined) return undefined;
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key(request), bytes.subarray(0, IV_BYTES), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(this.#associatedData(request));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]);
      const [status, contentType, body] = JSON.parse(plain.toString('utf8')) as [number, string, string];
      return { status, contentType, body };
    } catch {
      return undefined;
    }
  }
}
