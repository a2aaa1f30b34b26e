// Circuit-breaker state in Redis: one hash per breaker key, changed only by
// Lua scripts (so two processes recording at once both count), and every
// change published on the key's channel so that other processes learn of it at
// once instead of at their next call.
import type { CircuitBreakerPersistedState, CircuitBreakerStateProvider } from "../core/mod.ts";
import type { Connection } from "./_connection.ts";

const NOW = `local t = redis.call('TIME') local now = t[1] * 1000 + math.floor(t[2] / 1000) `;
// Read back the hash as the JSON every subscriber receives.
const EMIT = `
local h = redis.call('HGETALL', KEYS[1])
local o = {}
for i = 1, #h, 2 do o[h[i]] = h[i + 1] end
local msg = cjson.encode({ state = o.state or 'closed', failureCount = tonumber(o.failureCount or '0'),
  lastFailureTime = tonumber(o.lastFailureTime), lastSuccessTime = tonumber(o.lastSuccessTime) })
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], msg)
`;

// KEYS: hash, channel. ARGV: maxFailures, ttl.
const RECORD_FAILURE = NOW + `
local n = redis.call('HINCRBY', KEYS[1], 'failureCount', 1)
redis.call('HSET', KEYS[1], 'lastFailureTime', now)
local state = redis.call('HGET', KEYS[1], 'state')
if not state then state = 'closed' redis.call('HSET', KEYS[1], 'state', state) end
if n >= tonumber(ARGV[1]) and state ~= 'open' then redis.call('HSET', KEYS[1], 'state', 'open') end
` + EMIT + `return n`;

// KEYS: hash, channel. ARGV: unused, ttl.
const RECORD_SUCCESS = NOW + `
local state = redis.call('HGET', KEYS[1], 'state')
local n = tonumber(redis.call('HGET', KEYS[1], 'failureCount') or '0')
redis.call('HSET', KEYS[1], 'lastSuccessTime', now)
if state == 'closed' and n == 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 0 end
redis.call('HSET', KEYS[1], 'state', 'closed', 'failureCount', 0)
` + EMIT + `return 1`;

// KEYS: hash, channel. ARGV: state, ttl, failureCount, lastFailureTime, lastSuccessTime.
const SET_STATE = `
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'failureCount', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'lastFailureTime', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'lastSuccessTime', ARGV[5]) end
` + EMIT + `return 1`;

/** How long an untouched breaker's state stays in Redis. */
const STATE_TTL = 24 * 60 * 60 * 1000;

/**
 * A {@linkcode CircuitBreakerStateProvider} over Redis, with `subscribe`
 * through pub/sub and a fleet-wide half-open trial token (`acquireTrial`).
 */
export class RedisCircuitBreakerStateProvider implements CircuitBreakerStateProvider {
  readonly #conn: Connection;

  /** @internal Created by `RedisAdapter`, which shares one connection between its providers. */
  constructor(conn: Connection) {
    this.#conn = conn;
  }

  #keys(key: string): [string, string] {
    return [this.#conn.key("cb", key), this.#conn.key("cb-events", key)];
  }

  /** Implements the provider interface's `getState` (see `persistence.ts`). */
  async getState(key: string): Promise<CircuitBreakerPersistedState | null> {
    const [hash] = this.#keys(key);
    const fields = await this.#conn.call(
      `get breaker ${key}`,
      (c) => c.call("EVAL", `return redis.call('HGETALL', KEYS[1])`, 1, hash),
    ) as string[];
    if (!Array.isArray(fields) || fields.length === 0) return null;
    const o: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) o[fields[i]!] = fields[i + 1]!;
    return parseState(o);
  }

  /** Implements the provider interface's `setState` (see `persistence.ts`). */
  async setState(key: string, state: CircuitBreakerPersistedState): Promise<void> {
    const [hash, channel] = this.#keys(key);
    await this.#conn.call(
      `set breaker ${key}`,
      (c) =>
        c.call(
          "EVAL",
          SET_STATE,
          2,
          hash,
          channel,
          state.state,
          STATE_TTL,
          state.failureCount,
          state.lastFailureTime ?? "",
          state.lastSuccessTime ?? "",
        ),
    );
  }

  /** Implements the provider interface's `recordFailure` (see `persistence.ts`). */
  async recordFailure(key: string, maxFailures: number): Promise<number> {
    const [hash, channel] = this.#keys(key);
    const n = await this.#conn.call(
      `record breaker failure ${key}`,
      (c) => c.call("EVAL", RECORD_FAILURE, 2, hash, channel, maxFailures, STATE_TTL),
    );
    return Number(n);
  }

  /** Implements the provider interface's `recordSuccess` (see `persistence.ts`). */
  async recordSuccess(key: string): Promise<void> {
    const [hash, channel] = this.#keys(key);
    await this.#conn.call(
      `record breaker success ${key}`,
      (c) => c.call("EVAL", RECORD_SUCCESS, 2, hash, channel, 0, STATE_TTL),
    );
  }

  /** Implements the provider interface's `subscribe` (see `persistence.ts`). */
  subscribe(key: string, callback: (state: CircuitBreakerPersistedState) => void): () => void {
    const channel = this.#keys(key)[1].slice(this.#conn.prefix.length);
    return this.#conn.listen(channel, (message) => {
      let parsed: CircuitBreakerPersistedState | null = null;
      try {
        parsed = parseState(JSON.parse(message));
      } catch {
        return; // not ours
      }
      if (parsed !== null) callback(parsed);
    });
  }

  /**
   * Takes the fleet-wide half-open trial token of `key` for `ttl` ms: of all
   * processes whose breaker turned half-open, exactly one gets `true`.
   */
  async acquireTrial(key: string, ttl: number): Promise<boolean> {
    const trial = this.#conn.key("cb-trial", key);
    const ok = await this.#conn.call(
      `acquire breaker trial ${key}`,
      (c) => c.call("SET", trial, "1", "PX", Math.max(1, Math.ceil(ttl)), "NX"),
    );
    return ok === "OK";
  }
}

function parseState(o: Record<string, unknown>): CircuitBreakerPersistedState | null {
  const state = o.state;
  if (state !== "closed" && state !== "open" && state !== "half-open") return null;
  const out: CircuitBreakerPersistedState = { state, failureCount: Number(o.failureCount ?? 0) };
  if (o.lastFailureTime != null) out.lastFailureTime = Number(o.lastFailureTime);
  if (o.lastSuccessTime != null) out.lastSuccessTime = Number(o.lastSuccessTime);
  return out;
}
