/**
 * A circuit breaker: after too many consecutive failures it opens and rejects
 * calls at once, then lets a single trial through after `resetTimeout`.
 *
 * @module
 */
import { CircuitOpenError } from "../base/errors.ts";
import { defaultLogger, type Logger } from "../base/types.ts";
import type { CircuitBreakerStateProvider } from "../persistence/persistence.ts";
import { type BreakerEvents, EVENTS, eventsFromOptions, subscribe } from "./_breaker_events.ts";
import { adaptiveFrom, type AdaptiveThreshold } from "./_adaptive_threshold.ts";
import { assertFunction, assertOneOf, assertString } from "../base/_validate.ts";
import {
  assertStateProvider,
  checkBreakerSettings,
  type CircuitBreakerEvent,
  type CircuitBreakerEventHandler,
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitState,
  WHAT,
} from "./circuit_breaker_options.ts";
import { SharedBreakerState } from "./_shared_breaker.ts";
import { gate } from "../persistence/_connect.ts";
import { copySafeGetters } from "./_copy_safe.ts";

/**
 * Internal: lets the task pipeline drive a breaker without a closure per call.
 * Returns true when the call admitted is the half-open trial.
 */
export let acquire: (breaker: CircuitBreaker, logger?: Logger) => boolean;
/** Internal: reports the outcome of a call `acquire` admitted (`trial`: what `acquire` returned). */
export let release: (
  breaker: CircuitBreaker,
  error: unknown,
  ok: boolean,
  trial: boolean,
  logger?: Logger,
) => void;

/**
 * Internal: shares a keyed breaker's state through `provider` (the scope's or
 * the plugin's `persistence`), unless it shares already. `logger` reports
 * outages of the provider.
 */
export let shareState: (
  breaker: CircuitBreaker,
  provider: CircuitBreakerStateProvider,
  logger: Logger,
) => void;

/** Internal: whether a breaker's state is shared through a provider already. */
export let isShared: (breaker: CircuitBreaker) => boolean;

// Where its own errors go: the logger of the call in progress (a task's scope's), else the default.
let callLogger: Logger = defaultLogger;

/**
 * One breaker guards one dependency. Share an instance to share its state:
 * the Fastify plugin's `circuitBreaker` option puts one on the root scope, and
 * every request scope's tasks go through it.
 *
 * - Closed: `failureThreshold` consecutive failures open it; a success resets
 *   the count.
 * - Open: calls are rejected at once with {@linkcode CircuitOpenError} until
 *   `resetTimeout` has passed; then one trial call is let through (half-open)
 *   and concurrent calls are rejected.
 * - Half-open: `successThreshold` trial successes close it; a failure opens it
 *   again.
 *
 * @example
 * ```ts
 * import { CircuitBreaker, CircuitOpenError } from "@go-go-scope/adapter-fastify/core";
 *
 * const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeout: 1000 });
 * const down = () => Promise.reject(new Error("down"));
 * await breaker.execute(down).catch(() => {});
 * await breaker.execute(down).catch(() => {});
 * console.log(breaker.state); // open
 * const err = await breaker.execute(down).catch((e) => e);
 * console.log(err instanceof CircuitOpenError); // true
 * ```
 */
export class CircuitBreaker implements AsyncDisposable {
  #failureThreshold: number;
  #resetTimeout: number;
  #successThreshold: number;
  #isFailure: (error: unknown) => boolean;
  #state: CircuitState = "closed";
  #failures = 0;
  #successes = 0;
  #openedAt = 0;
  #trialInFlight = false;
  /** The consecutive failures that last opened it (what `stateChange` and `open` report). */
  #tripCount = 0;
  #events: BreakerEvents<CircuitBreakerEvents> | undefined;
  #adaptive: AdaptiveThreshold | undefined;
  #key: string | undefined;
  #shared: SharedBreakerState | undefined;
  /** Counts state changes (a shared state read before one is stale). */
  #generation = 0;

  static {
    copySafeGetters(this.prototype, (b) => #state in b); // test frameworks read copies
    acquire = (b, logger = defaultLogger) => {
      callLogger = logger;
      try {
        return b.#acquire();
      } finally {
        callLogger = defaultLogger;
      }
    };
    release = (b, error, ok, trial, logger = defaultLogger) => {
      callLogger = logger;
      try {
        b.#release(error, ok, trial);
      } finally {
        callLogger = defaultLogger;
      }
    };
    shareState = (b, provider, logger) => b.#share(provider, logger);
    isShared = (b) => b.#shared !== undefined;
  }

  /**
   * Creates a closed breaker.
   *
   * @param options Thresholds and timeouts; every field is optional.
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    const { failureThreshold, resetTimeout, successThreshold, isFailure } = checkBreakerSettings(
      options,
    );
    this.#failureThreshold = failureThreshold;
    this.#resetTimeout = resetTimeout;
    this.#successThreshold = successThreshold;
    this.#isFailure = isFailure;
    this.#adaptive = adaptiveFrom(options.advanced, failureThreshold);
    this.#events = eventsFromOptions(WHAT, options);
    const { key, stateProvider } = options;
    if (key !== undefined) {
      assertString(WHAT, "key", key);
      this.#key = key;
    }
    if (stateProvider !== undefined) {
      assertStateProvider(stateProvider, key);
      // An adapter given here with connect() is connected before its first use.
      gate(stateProvider, [stateProvider]);
      this.#share(stateProvider, defaultLogger);
    }
  }

  /** The `key` its state is shared under, if any. */
  get key(): string | undefined {
    return this.#key;
  }

  /** The milliseconds it stays open before a trial. */
  get resetTimeout(): number {
    return this.#resetTimeout;
  }

  #share(provider: CircuitBreakerStateProvider, logger: Logger): void {
    if (this.#shared !== undefined || this.#key === undefined) return;
    // deno-lint-ignore no-this-alias
    const breaker = this;
    this.#shared = new SharedBreakerState(
      {
        get failureThreshold() {
          return breaker.failureThreshold;
        },
        resetTimeout: this.#resetTimeout,
        get generation() {
          return breaker.#generation;
        },
        applyRemote: (state, openedAt) => this.#applyRemote(state, openedAt),
      },
      this.#key,
      provider,
      logger,
    );
  }

  /** What another process reported: open (since `openedAt`, else now), or closed. */
  #applyRemote(state: "open" | "closed", openedAt?: number): void {
    if (state === "open") {
      if (this.#state !== "open") {
        this.#open(this.failureThreshold);
        if (openedAt !== undefined && openedAt < this.#openedAt) this.#openedAt = openedAt;
      }
      return;
    }
    this.#failures = 0;
    if (this.#state === "closed") return;
    this.#successes = 0;
    this.#trialInFlight = false;
    this.#transition("closed");
  }

  /** The current state. An open breaker whose `resetTimeout` has passed reads `'half-open'`. */
  get state(): CircuitState {
    this.#shared?.touch();
    if (this.#state === "open" && Date.now() - this.#openedAt >= this.#resetTimeout) {
      this.#transition("half-open");
    }
    return this.#state;
  }

  /** go-go-scope's name for {@linkcode CircuitBreaker.state}. */
  get currentState(): CircuitState {
    return this.state;
  }

  /** Consecutive failures counted so far while closed. */
  get failureCount(): number {
    return this.#failures;
  }

  /** The consecutive failures that open it now: `failureThreshold`, or the adaptive one. */
  get failureThreshold(): number {
    return this.#adaptive?.threshold ?? this.#failureThreshold;
  }

  /** Failed share of the calls in `advanced.errorRateWindowMs` (0 unless adaptive). */
  get errorRate(): number {
    return this.#adaptive?.errorRate() ?? 0;
  }

  /**
   * Runs `fn` through the breaker.
   *
   * @param fn The call to guard.
   * @param signal Optional: if it is already aborted, `fn` is not called.
   * @returns What `fn` returns.
   * @throws {CircuitOpenError} When the breaker is open (not counted as a failure).
   */
  async execute<T>(fn: () => T | PromiseLike<T>, signal?: AbortSignal): Promise<T> {
    assertFunction("Cannot execute through circuit breaker", "fn", fn);
    signal?.throwIfAborted();
    const trial = this.#acquire();
    try {
      const value = await fn();
      this.#release(undefined, true, trial);
      return value;
    } catch (error) {
      this.#release(error, false, trial);
      throw error;
    }
  }

  /** Closes the breaker and clears its counters. */
  reset(): void {
    this.#failures = 0;
    this.#successes = 0;
    this.#trialInFlight = false;
    this.#adaptive?.reset();
    if (this.#state !== "closed") this.#transition("closed");
  }

  /** Removes every handler (the option hooks too), then resets it without emitting. */
  [Symbol.asyncDispose](): Promise<void> {
    this.#events = undefined;
    this.#shared?.dispose();
    this.#shared = undefined;
    this.reset();
    return Promise.resolve();
  }

  /**
   * Subscribes to an event. A handler that throws is logged (through the
   * scope's logger when the call came from a task) and never breaks the
   * breaker.
   *
   * @param event One of `'stateChange'`, `'open'`, `'halfOpen'`, `'close'`,
   * `'success'`, `'failure'`, `'reject'`, `'thresholdAdapt'`.
   * @param handler Receives the event's arguments (see {@linkcode CircuitBreakerEvents}).
   * @returns A function that unsubscribes.
   */
  on<E extends CircuitBreakerEvent>(event: E, handler: CircuitBreakerEventHandler<E>): () => void {
    this.#events = subscribe(this.#events, event, handler, false);
    return () => this.#events?.remove(event, handler);
  }

  /** Like {@linkcode CircuitBreaker.on}, for the next emission of `event` only. */
  once<E extends CircuitBreakerEvent>(event: E, handler: CircuitBreakerEventHandler<E>): void {
    this.#events = subscribe(this.#events, event, handler, true);
  }

  /** Unsubscribes a handler given to `on()` or `once()`. */
  off<E extends CircuitBreakerEvent>(event: E, handler: CircuitBreakerEventHandler<E>): void {
    assertOneOf("Cannot unsubscribe from circuit breaker", "event", event, EVENTS);
    this.#events?.remove(event, handler);
  }

  #acquire(): boolean {
    const state = this.state;
    if (state === "closed") return false;
    // A shared breaker's trial also needs the fleet-wide token.
    if (
      state === "half-open" && !this.#trialInFlight &&
      (this.#shared === undefined || this.#shared.admitTrial())
    ) {
      this.#trialInFlight = true;
      return true;
    }
    const retryAfter = state === "open"
      ? Math.max(0, this.#openedAt + this.#resetTimeout - Date.now())
      : 0;
    // One message for both refusals (open, or half-open with its trial in
    // flight): go-go-scope users compare it; the wait is in `retryAfter`.
    const error = new CircuitOpenError(retryAfter);
    this.#emit("reject", error);
    throw error;
  }

  #release(error: unknown, ok: boolean, isTrial: boolean): void {
    // A trial that outlived a reset() or a reopening is an ordinary call now.
    const trial = isTrial && this.#state === "half-open" && this.#trialInFlight;
    if (trial) this.#trialInFlight = false;
    if (ok) {
      if (this.#adaptive !== undefined) this.#adapt(true);
      this.#emit("success");
      if (trial) {
        if (++this.#successes >= this.#successThreshold) {
          this.#failures = 0;
          this.#successes = 0;
          this.#transition("closed");
        }
      } else {
        this.#failures = 0;
      }
      this.#shared?.succeeded(trial);
      return;
    }
    let counts: boolean;
    try {
      counts = this.#isFailure(error);
    } catch (cause) {
      callLogger.error(
        { err: cause },
        "circuit breaker: isFailure threw; counting the error as a failure",
      );
      counts = true;
    }
    if (!counts) return;
    if (this.#adaptive !== undefined) this.#adapt(false);
    this.#emit("failure", error);
    // Every counted failure is recorded once, as go-go-scope records it; the
    // provider opens the fleet's breaker when its count reaches the threshold.
    this.#shared?.failed();
    if (trial) {
      this.#open(1);
    } else if (this.#state === "closed" && ++this.#failures >= this.failureThreshold) {
      this.#open(this.#failures);
    }
  }

  /** Counts an outcome in the adaptive window; emits `thresholdAdapt` when the threshold moves. */
  #adapt(ok: boolean): void {
    const rate = this.#adaptive!.record(ok);
    if (rate !== undefined) this.#emit("thresholdAdapt", this.#adaptive!.threshold, rate);
  }

  #open(failureCount: number): void {
    this.#failures = 0;
    this.#successes = 0;
    this.#tripCount = failureCount;
    this.#openedAt = Date.now();
    this.#trialInFlight = false;
    this.#shared?.opened();
    this.#transition("open");
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    if (from === to) return;
    this.#generation++;
    const count = to === "closed" ? 0 : this.#tripCount;
    this.#emit("stateChange", from, to, count);
    if (to === "open") this.#emit("open", count);
    else this.#emit(to === "closed" ? "close" : "halfOpen");
  }

  #emit<E extends CircuitBreakerEvent>(event: E, ...args: CircuitBreakerEvents[E]): void {
    const handlers = this.#events?.take(event);
    if (handlers === undefined) return;
    for (const handler of handlers) {
      try {
        handler(...args);
      } catch (error) {
        callLogger.error({ err: error, event }, `circuit breaker: a '${event}' handler threw`);
      }
    }
  }
}
