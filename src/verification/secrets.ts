// The one place that makes ids and hashes secrets. Codes and session tokens are never stored:
// only SHA-256(token), the lookup key, and HMAC-SHA-256(token, code), so a leaked table holds
// nothing to replay and no code can be brute-forced from it without the 256-bit token.
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export function newId(): string {
  return randomUUID();
}

export function hashToken(sessionToken: string): string {
  return createHash('sha256').update(sessionToken).digest('hex');
}

export function hashCode(sessionToken: string, securityCode: string): string {
  return createHmac('sha256', sessionToken).update(securityCode).digest('hex');
}

/** Constant-time string equality (for secrets compared in this process). */
export function secretEquals(a: string, b: string): boolean {
  const left = createHash('sha256').update(a).digest();
  const right = createHash('sha256').update(b).digest();
  return timingSafeEqual(left, right);
}
