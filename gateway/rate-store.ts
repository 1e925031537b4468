// The shared store behind the gateway's rate limits (identity.ts): with YUTANG_GATEWAY_RATE_LIMIT_REDIS_URL set,
// every gateway instance counts in one Redis, so a client's per-second and per-day budget is one budget however
// its requests are spread over the instances.
//
// - one Lua script per hit, so the check and the count are atomic across instances: the same token bucket as the
//   in-memory counter (capacity = burst, refilled at perSecond; a hash of tokens and last time per key, expiring
//   once the bucket would be full again) and a per-day counter (INCR, expiring after the UTC day), counted only
//   when the request passes;
// - the time comes from the calling gateway (clocks of the instances are assumed in step within a few hundred
//   ms; a bucket's time never goes backwards, so a late clock cannot refill it);
// - fail open: when Redis does not answer (down, unreachable, slower than COMMAND_TIMEOUT_MS), the instance falls
//   back to its own in-memory counter (for that request and, without asking Redis, for a second after) and logs a
//   warning once per outage (and an info line when Redis is back). A limiter outage then means per-instance
//   limits for a while, not refusing every request: the limits protect capacity and fairness, and the API staying
//   up matters more than exact counts during an outage. Counts made in memory meanwhile are not copied to Redis.
import { Redis } from 'ioredis';

/** 0 when a request of this key may pass now (and it is counted), else the seconds to wait. */
export interface RateCounter {
  hit(key: string, burst: number, perSecond: number, perDay: number, now?: number): number | Promise<number>;
}

const KEY_PREFIX = 'yutang:rl:';
const COMMAND_TIMEOUT_MS = 1000;
const RETRY_AFTER_FAILURE_MS = 1000;
const DAY_MS = 86_400_000;

// KEYS: bucket hash, day counter. ARGV: now (ms), capacity, refill per second, per-day limit, end of the day (ms).
const HIT_SCRIPT = `
local now = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local rate = tonumber(ARGV[3])
local per_day = tonumber(ARGV[4])
local day_end = tonumber(ARGV[5])
local used = tonumber(redis.call('GET', KEYS[2]) or '0')
if used >= per_day then
  return math.max(1, math.ceil((day_end - now) / 1000))
end
local bucket = redis.call('HMGET', KEYS[1], 't', 'a')
local tokens = tonumber(bucket[1]) or capacity
local at = tonumber(bucket[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) / 1000 * rate)
  at = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 't', string.format('%.6f', tokens), 'a', string.format('%d', at))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
if wait == 0 then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIREAT', KEYS[2], string.format('%d', day_end + 60000))
end
return wait
`;

type HitCommand = (bucket: string, day: string, ...args: string[]) => Promise<number>;

/** One JSON log line in the gateway's format (gateway.config.ts writes the same shape). */
function logLine(level: 'info' | 'warn', msg: string, extra: Record<string, unknown> = {}): void {
  const line = { ...extra, ts: new Date().toISOString(), level, logger: 'rate-limits', msg, service: 'gateway' };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** The Redis URL without its password, for logs. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * One Redis connection for all of an instance's counters; `counter()` namespaces keys. On any Redis failure a hit is
 * counted by the counter's `fallback` (this instance's memory), and for RETRY_AFTER_FAILURE_MS after a failure Redis
 * is not asked at all, so a hanging Redis does not add its timeout to every request.
 */
export class RedisStore {
  private readonly redis: Redis;
  private readonly hitCommand: HitCommand;
  private down = false;
  private skipUntil = 0;

  constructor(private readonly url: string) {
    this.redis = new Redis(url, {
      // Never queue a hit while disconnected, never retry one: a late answer is worse than the fallback.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    this.redis.defineCommand('yutangRateHit', { numberOfKeys: 2, lua: HIT_SCRIPT });
    this.hitCommand = (this.redis as unknown as { yutangRateHit: HitCommand }).yutangRateHit.bind(this.redis);
    this.redis.on('error', (err: Error) => this.failed(err));
    this.redis.on('ready', () => this.recovered());
  }

  counter(namespace: string, fallback: RateCounter): RateCounter {
    return {
      hit: (key, burst, perSecond, perDay, now) =>
        this.hit(`${namespace}:${key}`, fallback, key, burst, perSecond, perDay, now),
    };
  }

  private hit(
    storeKey: string,
    fallback: RateCounter,
    key: string,
    burst: number,
    perSecond: number,
    perDay: number,
    now = Date.now(),
  ): number | Promise<number> {
    if (this.down && now < this.skipUntil) return fallback.hit(key, burst, perSecond, perDay, now);
    const day = Math.floor(now / DAY_MS);
    const base = `${KEY_PREFIX}${storeKey}`;
    return this.hitCommand(
      `${base}:s`,
      `${base}:d:${day}`,
      String(now),
      String(burst),
      String(perSecond),
      String(Math.min(perDay, Number.MAX_SAFE_INTEGER)),
      String((day + 1) * DAY_MS),
    ).then(
      (wait) => {
        this.recovered();
        return Number(wait);
      },
      (err: Error) => {
        this.failed(err);
        return fallback.hit(key, burst, perSecond, perDay, now);
      },
    );
  }

  private failed(err: Error): void {
    this.skipUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
    if (this.down) return;
    this.down = true;
    logLine('warn', "rate-limit store unreachable: failing open to this instance's in-memory counters", {
      store: redactedUrl(this.url),
      error: err.message,
    });
  }

  private recovered(): void {
    if (!this.down) return;
    this.down = false;
    this.skipUntil = 0;
    logLine('info', 'rate-limit store reachable again: counting in Redis', { store: redactedUrl(this.url) });
  }

  close(): void {
    this.redis.disconnect();
  }
}
