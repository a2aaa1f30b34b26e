// Locks in Redis. One lock is two keys: a string holding the exclusive owner
// (SET NX PX) and a sorted set of shared holders scored by their expiry. Each
// operation is one Lua script, so it is atomic across processes, and it reads
// the time from Redis (TIME), so every process agrees on expiry.
import type { LockHandle, LockMode, LockProvider } from "../core/mod.ts";
import type { Connection } from "./_connection.ts";

const NOW = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) `;

// KEYS: exclusive, shared. ARGV: owner, ttl, mode.
const ACQUIRE = NOW + `
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local holder = redis.call('GET', KEYS[1])
if ARGV[3] == 'exclusive' then
  if holder or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1`;

// KEYS: exclusive, shared. ARGV: owner. Returns 1 when owner held it.
const RELEASE = NOW + `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
return redis.call('ZREM', KEYS[2], ARGV[1])`;

// KEYS: exclusive, shared. ARGV: owner, ttl.
const EXTEND = NOW + `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1
end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score or tonumber(score) <= now then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1`;

// KEYS: exclusive, shared. ARGV: owner (empty: anyone).
const HELD = NOW + `
if ARGV[1] == '' then
  if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
  return redis.call('ZCOUNT', KEYS[2], '(' .. now, '+inf') > 0 and 1 or 0
end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
return (score and tonumber(score) > now) and 1 or 0`;

const RELEASED = "lock-released";

/** A {@linkcode LockProvider} over Redis; every process on the same Redis and prefix contends. */
export class RedisLockProvider implements LockProvider {
  /** `acquire` honours `mode: "shared"`. */
  readonly supportsSharedMode: true = true;
  readonly #conn: Connection;

  /** @internal Created by `RedisAdapter`, which shares one connection between its providers. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  #keys(key: string): [string, string] {
    return [this.#conn.key("lock", key), this.#conn.key("lock-shared", key)];
  }

  /** Implements the provider interface's `acquire` (see `persistence.ts`). */
  async acquire(
    key: string,
    ttl: number,
    owner: string = randomOwner(),
    mode: LockMode = "exclusive",
  ): Promise<LockHandle | null> {
    const [x, shared] = this.#keys(key);
    const ms = Math.max(1, Math.ceil(ttl));
    const ok = await this.#conn.call(
      `acquire lock ${key}`,
      (c) => c.call("EVAL", ACQUIRE, 2, x, shared, owner, ms, mode),
    );
    if (ok !== 1) return null;
    return {
      release: async () => {
        await this.release(key, owner);
      },
      extend: (newTtl: number) => this.extend(key, newTtl, owner),
      isValid: () => this.#held(key, owner),
    };
  }

  /** Implements the provider interface's `release` (see `persistence.ts`). */
  async release(key: string, owner: string): Promise<boolean> {
    const [x, shared] = this.#keys(key);
    const n = await this.#conn.call(
      `release lock ${key}`,
      (c) => c.call("EVAL", RELEASE, 2, x, shared, owner),
    );
    if (n !== 1) return false;
    // Waiters in other processes retry at once instead of at their next poll.
    this.#conn.publish(RELEASED, key).catch(() => {});
    return true;
  }

  /** Implements the provider interface's `extend` (see `persistence.ts`). */
  async extend(key: string, ttl: number, owner: string): Promise<boolean> {
    const [x, shared] = this.#keys(key);
    const ms = Math.max(1, Math.ceil(ttl));
    const n = await this.#conn.call(
      `extend lock ${key}`,
      (c) => c.call("EVAL", EXTEND, 2, x, shared, owner, ms),
    );
    return n === 1;
  }

  /** Implements the provider interface's `forceRelease` (see `persistence.ts`). */
  async forceRelease(key: string): Promise<void> {
    const [x, shared] = this.#keys(key);
    await this.#conn.call(`force-release lock ${key}`, (c) => c.call("DEL", x, shared));
    this.#conn.publish(RELEASED, key).catch(() => {});
  }

  /** Implements the provider interface's `isLocked` (see `persistence.ts`). */
  isLocked(key: string): Promise<boolean> {
    return this.#held(key, "");
  }

  /** Implements the provider interface's `onRelease` (see `persistence.ts`). */
  onRelease(key: string, listener: () => void): () => void {
    return this.#conn.listen(RELEASED, (released) => {
      if (released === key) listener();
    });
  }

  async #held(key: string, owner: string): Promise<boolean> {
    const [x, shared] = this.#keys(key);
    const n = await this.#conn.call(
      `inspect lock ${key}`,
      (c) => c.call("EVAL", HELD, 2, x, shared, owner),
    );
    return n === 1;
  }
}

function randomOwner(): string {
  return crypto.randomUUID();
}
