// A circuit breaker whose state is shared through a CircuitBreakerStateProvider
// (Redis): every counted failure is recorded there atomically, every state
// change is published, and each process applies what it hears to its local
// breaker. The local breaker stays the one that decides each call, so a call
// never waits for the network; when the provider is down, the breaker keeps
// working on its local state and the outage is logged once.
import type {
  CircuitBreakerPersistedState,
  CircuitBreakerStateProvider,
} from "../persistence/persistence.ts";
import type { Logger } from "../base/types.ts";

/** What the sharing needs from its breaker (implemented by CircuitBreaker through symbols). */
export interface SharedBreakerHost {
  readonly failureThreshold: number;
  readonly resetTimeout: number;
  /** Opens (fresh openedAt) or closes the local breaker without telling the provider again. */
  applyRemote(state: "open" | "closed"): void;
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
  #inFlight = false;
  #pendingFailures = 0;

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
    this.#unsubscribe = provider.subscribe?.(key, (state) => this.#heard(state));
    // Start from what the fleet already knows (a breaker already open elsewhere).
    this.#call(provider.getState(key), (state) => {
      if (state !== null) this.#heard(state);
    });
  }

  /**
   * A counted failure happened here. `opened`: it opened this process's
   * breaker (its threshold was reached, or its half-open trial failed), so the
   * fleet is told to open; otherwise it is counted with the fleet's failures.
   */
  failed(opened: boolean): void {
    const threshold = this.#host.failureThreshold;
    if (opened) {
      this.#call(
        this.#provider.setState(this.key, {
          state: "open",
          failureCount: threshold,
          lastFailureTime: Date.now(),
        }),
      );
      return;
    }
    this.#recordFailure();
  }

  /**
   * Counts failures with at most one call in flight: failures that happen
   * meanwhile are added up and sent as one increment when it returns, so a
   * failure storm costs Redis one round trip at a time, not one per failure.
   */
  #recordFailure(): void {
    if (this.#inFlight) {
      this.#pendingFailures++;
      return;
    }
    const count = this.#pendingFailures + 1;
    this.#pendingFailures = 0;
    this.#inFlight = true;
    const threshold = this.#host.failureThreshold;
    const done = () => {
      this.#inFlight = false;
      if (this.#pendingFailures > 0) {
        this.#pendingFailures--;
        this.#recordFailure();
      }
    };
    this.#call(this.#provider.recordFailure(this.key, threshold, count), (total) => {
      this.#sharedFailures = total;
      if (total >= threshold) this.#host.applyRemote("open");
      done();
    }, done);
  }

  /** A success happened here; resets the fleet's count when it may be above zero. */
  succeeded(trial: boolean): void {
    if (!trial && this.#sharedFailures === 0) return;
    this.#sharedFailures = 0;
    this.#call(this.#provider.recordSuccess(this.key));
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
          acquireTrial.call(this.#provider, this.key, this.#host.resetTimeout),
          (granted) => this.#trial = granted ? "granted" : "denied",
          () => this.#trial = "granted",
        );
        return false;
      default:
        return false;
    }
  }

  /** Stops listening to the provider. */
  dispose(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #heard(state: CircuitBreakerPersistedState): void {
    this.#sharedFailures = state.failureCount;
    if (state.state === "open") this.#host.applyRemote("open");
    else if (state.state === "closed" && state.failureCount === 0) this.#host.applyRemote("closed");
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
