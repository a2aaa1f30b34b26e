// A persistence adapter that behaves as go-go-scope's database adapters do
// (modelled on @go-go-scope/persistence-mysql 2.9.1): exclusive lock entries
// only (a mode argument is ignored) that an owner may take again while it
// holds them, breaker state as a read-modify-write with no `subscribe`, and a
// `connect()` that must run before anything else works. It records its calls.
import type {
  CircuitBreakerPersistedState,
  CircuitBreakerStateProvider,
  LockHandle,
  LockProvider,
} from "../../../src/core/mod.ts";
import { sleep } from "../_helpers.ts";

export class FakeGoGoScopeAdapter implements LockProvider, CircuitBreakerStateProvider {
  /** Every call, as `method:key:args…`. */
  readonly calls: string[] = [];
  readonly locks: Map<string, { owner: string; expiresAt: number }> = new Map();
  readonly states: Map<string, CircuitBreakerPersistedState> = new Map();
  connects = 0;
  connected = false;
  /** How many coming `connect()` calls fail. */
  failConnects = 0;
  /** How many coming `acquire()` calls fail as a database deadlock does. */
  failAcquires = 0;
  /** Ms between the read and the write of `recordFailure` (a network round trip). */
  latency = 0;
  /** The most `recordFailure` calls seen in flight at once. */
  maxConcurrentRecords = 0;
  #records = 0;

  async connect(): Promise<void> {
    this.connects++;
    await sleep(5);
    if (this.failConnects > 0) {
      this.failConnects--;
      throw new Error("connect ECONNREFUSED 127.0.0.1:3306");
    }
    this.connected = true;
  }

  #ready(): void {
    if (!this.connected) throw new Error("Table 'go_goscope_locks' doesn't exist");
  }

  acquire(key: string, ttl: number, owner = `o-${Math.random()}`): Promise<LockHandle | null> {
    this.calls.push(`acquire:${key}`);
    this.#ready();
    if (this.failAcquires > 0) {
      this.failAcquires--;
      return Promise.reject(new Error("Deadlock found when trying to get lock"));
    }
    const held = this.locks.get(key);
    // As go-go-scope's adapters: an owner may take again what it holds.
    if (held !== undefined && held.expiresAt > Date.now() && held.owner !== owner) {
      return Promise.resolve(null);
    }
    this.locks.set(key, { owner, expiresAt: Date.now() + ttl });
    return Promise.resolve({
      release: () => {
        this.calls.push(`release:${key}`);
        if (this.locks.get(key)?.owner === owner) this.locks.delete(key);
        return Promise.resolve();
      },
      extend: (t: number) => this.extend(key, t, owner),
      isValid: () => Promise.resolve(this.locks.get(key)?.owner === owner),
    });
  }

  extend(key: string, ttl: number, owner: string): Promise<boolean> {
    const held = this.locks.get(key);
    if (held === undefined || held.owner !== owner || held.expiresAt <= Date.now()) {
      return Promise.resolve(false);
    }
    held.expiresAt = Date.now() + ttl;
    return Promise.resolve(true);
  }

  forceRelease(key: string): Promise<void> {
    this.locks.delete(key);
    return Promise.resolve();
  }

  /** Keys held now by anyone. */
  held(): string[] {
    const now = Date.now();
    return [...this.locks].filter(([, v]) => v.expiresAt > now).map(([k]) => k);
  }

  getState(key: string): Promise<CircuitBreakerPersistedState | null> {
    this.calls.push(`getState:${key}`);
    const state = this.states.get(key);
    return Promise.resolve(state === undefined ? null : { ...state });
  }

  setState(key: string, state: CircuitBreakerPersistedState): Promise<void> {
    this.calls.push(`setState:${key}:${state.state}`);
    this.states.set(key, { ...state });
    return Promise.resolve();
  }

  /** A read-modify-write, as go-go-scope's SQL adapters do it: concurrent calls lose counts. */
  async recordFailure(key: string, maxFailures: number, ...rest: unknown[]): Promise<number> {
    this.calls.push(`recordFailure:${key}:${[maxFailures, ...rest].join(":")}`);
    this.maxConcurrentRecords = Math.max(this.maxConcurrentRecords, ++this.#records);
    try {
      const state = this.states.get(key) ?? { state: "closed", failureCount: 0 };
      await sleep(this.latency);
      const next: CircuitBreakerPersistedState = {
        ...state,
        failureCount: state.failureCount + 1,
        lastFailureTime: Date.now(),
      };
      if (next.failureCount >= maxFailures) next.state = "open";
      this.states.set(key, next);
      return next.failureCount;
    } finally {
      this.#records--;
    }
  }

  recordSuccess(key: string): Promise<void> {
    this.calls.push(`recordSuccess:${key}`);
    this.states.set(key, { state: "closed", failureCount: 0, lastSuccessTime: Date.now() });
    return Promise.resolve();
  }

  /** The calls of `method`. */
  count(method: string): number {
    return this.calls.filter((c) => c.startsWith(`${method}:`)).length;
  }
}
