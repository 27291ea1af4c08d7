// The one place that makes ids, random tokens and hashes of secrets. Codes and session tokens are
// never stored: only SHA-256(token), the lookup key, and HMAC-SHA-256(token, code), so a leaked
// table holds nothing to replay and no code can be brute-forced from it without the 256-bit token.
import { createHmac, hash, randomFillSync, timingSafeEqual } from 'node:crypto';

// CSPRNG output fetched 4 KiB at a time: one call into OpenSSL per ~100 tokens instead of one per
// token, since the call's fixed cost is many times that of taking a slice of the pool. Every byte
// is handed out once; the pool is refilled, never reused.
const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/** `size` bytes from the CSPRNG, copied out of the pool (the caller owns them). */
export function randomBytesPooled(size: number): Buffer {
  if (size > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(size));
  if (poolOffset + size > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + size));
  poolOffset += size;
  return bytes;
}

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit sequence, then 62 random bits.
 * Time-ordered ids land at the right edge of the primary-key index instead of on a random page
 * (fewer pages written per insert); the creation time they reveal is public anyway
 * (GET /v1/verifications/{id}). Within this process every id sorts after the one before (the
 * RFC's counter method; the milliseconds never go back), so starts are ordered as they were made
 * even within one millisecond: the supersede rule relies on it (verification-store.ts).
 */
let lastMs = 0;
let sequence = 0;

export function newId(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs += 1; // 4,096 ids in one millisecond: borrow the next one
    sequence = 0;
  }
  const bytes = randomBytesPooled(16);
  bytes.writeUIntBE(lastMs, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8); // version 7, then the sequence's high 4 bits
  bytes[7] = sequence & 0xff;
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** An id as newId makes them (and as older releases made them: any UUID, in lower-case text). */
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** False for text that no session can have as its id, so it is answered without a lookup. */
export function isVerificationId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export function hashToken(sessionToken: string): string {
  return hash('sha256', sessionToken, 'hex');
}

export function hashCode(sessionToken: string, securityCode: string): string {
  return createHmac('sha256', sessionToken).update(securityCode).digest('hex');
}

/** Constant-time string equality (for secrets compared in this process). */
export function secretEquals(a: string, b: string): boolean {
  const left = hash('sha256', a, 'buffer');
  const right = hash('sha256', b, 'buffer');
  return timingSafeEqual(left, right);
}

/**
 * The token of a session checked by its number (Twilio's and other tenant APIs, where the client
 * keeps no token): derived from its id. Such a session's code is then protected by its length and
 * the attempt lock alone, as it is at Twilio.
 */
export function sessionTokenFor(id: string): string {
  return `by-number:${id}`;
}
