// A circuit breaker whose state is shared through a CircuitBreakerStateProvider
// (Redis, or one of go-go-scope's database adapters), called as go-go-scope
// calls it: `recordFailure(key, threshold)` once per counted failure, one call
// at a time (an adapter whose count is a read-modify-write loses none of this
// process's failures), `recordSuccess(key)` after a success once failures were
// counted, never a `setState` racing the adapter's own update. Other
// processes' changes arrive through `subscribe`, or, for a provider without
// it, by reading `getState` when the breaker is used (at most once a second).
// The local breaker stays the one that decides each call, so a call never
// waits for the network; when the provider is down, the breaker keeps working
// on its local state and the outage is logged once.
import type {
  CircuitBreakerPersistedState,
  CircuitBreakerStateProvider,
} from "../persistence/persistence.ts";
import { whenConnected } from "../persistence/_connect.ts";
import type { Logger } from "../base/types.ts";

/** How often a breaker in use re-reads a provider that cannot publish changes. */
export const REFRESH_MS = 1_000;

/** What the sharing needs from its breaker (implemented by CircuitBreaker through symbols). */
export interface SharedBreakerHost {
  readonly failureThreshold: number;
  readonly resetTimeout: number;
  /** Counts the breaker's own state changes (a read started before one is stale). */
  readonly generation: number;
  /**
   * Opens (since `openedAt`, ms since the epoch) or closes the local breaker
   * without telling the provider again.
   */
  applyRemote(state: "open" | "closed", openedAt?: number): void;
}

/** A provider that can hand out one half-open trial for the whole fleet (RedisAdapter's can). */
interface TrialProvider {
  acquireTrial?(key: string, ttl: number): Promise<boolean>;
}

type Trial = "none" | "pending" | "granted" | "used" | "denied";

export class SharedBreakerState {
  readonly key: string;
  readonly #host: SharedBreakerHost;
  readonly #provider: CircuitBreakerStateProvider & TrialProvider;
  readonly #logger: Logger;
  #unsubscribe: (() => void) | undefined;
  #sharedFailures = 0;
  #outage = false;
  #trial: Trial = "none";
  // Recording: one provider call at a time; what happens meanwhile waits here.
  #busy = false;
  #resetFirst = false;
  #failuresQueued = 0;
  // Reading, for a provider without subscribe.
  #reads: boolean;
  #reading = false;
  #nextRead = 0;
  #seen: string | undefined;

  constructor(
    host: SharedBreakerHost,
    key: string,
    provider: CircuitBreakerStateProvider,
    logger: Logger,
  ) {
    this.key = key;
    this.#host = host;
    this.#provider = provider;
    this.#logger = logger;
    this.#reads = typeof provider.subscribe !== "function";
    this.#unsubscribe = provider.subscribe?.(key, (state) => this.#heard(state));
    // Start from what the fleet already knows (a breaker already open elsewhere).
    this.#read();
  }

  /** The breaker is being used: re-read the provider's state if it is due. */
  touch(): void {
    if (this.#reads && !this.#reading && Date.now() >= this.#nextRead) this.#read();
  }

  /** A counted failure happened here: recorded with one `recordFailure` call. */
  failed(): void {
    // Beyond the threshold more calls change nothing: the provider's state is open.
    if (this.#failuresQueued < this.#host.failureThreshold) this.#failuresQueued++;
    this.#sharedFailures = Math.max(this.#sharedFailures, 1);
    this.#pump();
  }

  /** A success happened here; resets the fleet's count when it may be above zero. */
  succeeded(trial: boolean): void {
    if (!trial && this.#sharedFailures === 0) return;
    this.#sharedFailures = 0;
    // Failures recorded before a success no longer count.
    this.#failuresQueued = 0;
    this.#resetFirst = true;
    this.#pump();
  }

  /** The local breaker opened: the next half-open period needs a new trial token. */
  opened(): void {
    this.#trial = "none";
  }

  /**
   * Whether the local half-open breaker may run its trial now. The first call
   * asks the provider for the fleet-wide token and answers `false`; once the
   * token is granted, the next call gets `true`. Without a token provider, or
   * while the provider is down, the local trial runs as in a lone process.
   */
  admitTrial(): boolean {
    const acquireTrial = this.#provider.acquireTrial;
    if (acquireTrial === undefined || this.#outage) return true;
    switch (this.#trial) {
      case "granted":
        this.#trial = "used";
        return true;
      case "none":
        this.#trial = "pending";
        this.#call(
          this.#invoke(() => acquireTrial.call(this.#provider, this.key, this.#host.resetTimeout)),
          (granted) => this.#trial = granted ? "granted" : "denied",
          () => this.#trial = "granted",
        );
        return false;
      default:
        return false;
    }
  }

  /** Stops listening to and reading from the provider. */
  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#reads = false;
  }

  /** Sends the next waiting record, if none is in flight. */
  #pump(): void {
    if (this.#busy) return;
    const provider = this.#provider;
    const key = this.key;
    let pending: Promise<number | void>;
    if (this.#resetFirst) {
      this.#resetFirst = false;
      pending = this.#invoke(() => provider.recordSuccess(key));
    } else if (this.#failuresQueued > 0) {
      this.#failuresQueued--;
      const threshold = this.#host.failureThreshold;
      pending = this.#invoke(() => provider.recordFailure(key, threshold)).then((total) => {
        if (typeof total !== "number") return;
        this.#sharedFailures = total;
        if (total >= threshold) this.#host.applyRemote("open");
      });
    } else return;
    this.#busy = true;
    const next = () => {
      this.#busy = false;
      this.#pump();
    };
    this.#call(pending, next, next);
  }

  #read(): void {
    this.#reading = true;
    this.#nextRead = Date.now() + REFRESH_MS;
    const generation = this.#host.generation;
    this.#call(this.#invoke(() => this.#provider.getState(this.key)), (state) => {
      this.#reading = false;
      // A state read before this breaker changed on its own is stale.
      if (state !== null && this.#host.generation === generation) this.#heard(state);
    }, () => this.#reading = false);
  }

  #heard(state: CircuitBreakerPersistedState): void {
    const seen =
      `${state.state}|${state.failureCount}|${state.lastFailureTime}|${state.lastSuccessTime}`;
    if (seen === this.#seen) return; // nothing new since the last read
    this.#seen = seen;
    this.#sharedFailures = state.failureCount;
    if (state.state === "open") {
      const now = Date.now();
      this.#host.applyRemote("open", Math.min(now, state.lastFailureTime ?? now));
    } else if (state.state === "closed" && state.failureCount === 0) {
      this.#host.applyRemote("closed");
    }
  }

  /** Calls the provider once its adapter is connected. */
  #invoke<T>(call: () => Promise<T>): Promise<T> {
    const connecting = whenConnected(this.#provider);
    if (connecting !== undefined) return connecting.then(call);
    try {
      return call();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #call<T>(pending: Promise<T>, then?: (value: T) => void, otherwise?: () => void): void {
    Promise.resolve(pending).then(
      (value) => {
        if (this.#outage) {
          this.#outage = false;
          this.#logger.info(
            { breaker: this.key },
            "go-go-scope: shared circuit breaker state is reachable again",
          );
        }
        then?.(value);
      },
      (error: unknown) => {
        if (!this.#outage) {
          this.#outage = true;
          this.#logger.warn(
            { err: error, breaker: this.key },
            "go-go-scope: shared circuit breaker state unavailable; using this process's state",
          );
        }
        otherwise?.();
      },
    );
  }
}
