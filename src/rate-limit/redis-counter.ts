// Counts in Redis, so every replica shares one count per key. Each operation is one Lua script:
// atomic, so concurrent hits on several replicas can never both take the last slot.
import type { Redis } from 'ioredis';
import type { RateCounter, WindowCount } from './counter.js';

// INCR, and open the window on the first hit (or repair a key that somehow lost its expiry).
const HIT = `
local current = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if current == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {current, ttl}
`;

// DECR only a live window: a DECR on an expired key would create a counter that never expires.
const REFUND = `
if redis.call('PTTL', KEYS[1]) > 0 and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
`;

export class RedisCounter implements RateCounter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const [current, ttlMs] = (await this.redis.eval(HIT, 1, this.prefix + key, windowMs)) as [number, number];
    return { current, ttlMs };
  }

  async refund(key: string): Promise<void> {
    await this.redis.eval(REFUND, 1, this.prefix + key);
  }
}
