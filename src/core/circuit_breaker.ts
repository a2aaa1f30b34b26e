/**
 * A circuit breaker: after too many consecutive failures it opens and rejects
 * calls at once, then lets a single trial through after `resetTimeout`.
 *
 * @module
 */
import { CircuitOpenError, isAbortError } from "./errors.ts";
import { defaultLogger, type Logger } from "./types.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  assertOneOf,
} from "./_validate.ts";

/** The breaker's state. */
export type CircuitState = "closed" | "open" | "half-open";

/** Events a breaker emits; see {@linkcode CircuitBreaker.on}. */
export type CircuitBreakerEvent =
  | "stateChange"
  | "open"
  | "halfOpen"
  | "close"
  | "success"
  | "failure"
  | "reject";

/** Options of {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the breaker.
   * @default 5
   */
  failureThreshold?: number;
  /**
   * Milliseconds the breaker stays open before it lets one trial call through.
   * @default 30000
   */
  resetTimeout?: number;
  /**
   * Trial successes (half-open) that close the breaker again.
   * @default 1
   */
  successThreshold?: number;
  /**
   * Decides whether an error counts as a failure of the dependency. By
   * default every error counts except cancellations (`AbortError`: the scope
   * was disposed or the client left), which are not the dependency's fault.
   */
  isFailure?: (error: unknown) => boolean;
}

/** What a {@linkcode CircuitBreaker.on} handler receives. */
export interface CircuitBreakerEventData {
  /** The event's name. */
  event: CircuitBreakerEvent;
  /** The state after the event. */
  state: CircuitState;
  /** The state before a `stateChange`. */
  from?: CircuitState;
  /** The error of a `failure` (or the rejection of a `reject`). */
  error?: unknown;
}

const EVENTS: readonly CircuitBreakerEvent[] = [
  "stateChange",
  "open",
  "halfOpen",
  "close",
  "success",
  "failure",
  "reject",
];
const KNOWN = ["failureThreshold", "resetTimeout", "successThreshold", "isFailure"] as const;
const WHAT = "Cannot create circuit breaker";

function defaultIsFailure(error: unknown): boolean {
  return !isAbortError(error);
}

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

// Where the breaker's own errors (a throwing handler or isFailure) go: the
// logger of the call in progress (a task passes its scope's, so the line
// carries the request id), else the default logger.
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
export class CircuitBreaker {
  #failureThreshold: number;
  #resetTimeout: number;
  #successThreshold: number;
  #isFailure: (error: unknown) => boolean;
  #state: CircuitState = "closed";
  #failures = 0;
  #successes = 0;
  #openedAt = 0;
  #trialInFlight = false;
  #handlers: Map<CircuitBreakerEvent, Set<(data: CircuitBreakerEventData) => void>> | undefined;

  static {
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
  }

  /**
   * Creates a closed breaker.
   *
   * @param options Thresholds and timeouts; every field is optional.
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(options: CircuitBreakerOptions = {}) {
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    const {
      failureThreshold = 5,
      resetTimeout = 30000,
      successThreshold = 1,
      isFailure = defaultIsFailure,
    } = options;
    assertInteger(WHAT, "failureThreshold", failureThreshold, 1);
    assertMs(WHAT, "resetTimeout", resetTimeout);
    assertInteger(WHAT, "successThreshold", successThreshold, 1);
    assertFunction(WHAT, "isFailure", isFailure);
    this.#failureThreshold = failureThreshold;
    this.#resetTimeout = resetTimeout;
    this.#successThreshold = successThreshold;
    this.#isFailure = isFailure;
  }

  /** The current state. An open breaker whose `resetTimeout` has passed reads `'half-open'`. */
  get state(): CircuitState {
    if (this.#state === "open" && Date.now() - this.#openedAt >= this.#resetTimeout) {
      this.#transition("half-open");
    }
    return this.#state;
  }

  /** Consecutive failures counted so far while closed. */
  get failureCount(): number {
    return this.#failures;
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
    if (this.#state !== "closed") this.#transition("closed");
  }

  /**
   * Subscribes to an event. A handler that throws is logged (through the
   * scope's logger when the call came from a task) and never breaks the
   * breaker.
   *
   * @param event One of `'stateChange'`, `'open'`, `'halfOpen'`, `'close'`,
   * `'success'`, `'failure'`, `'reject'`.
   * @param handler Receives `{ event, state, from?, error? }`.
   * @returns A function that unsubscribes.
   */
  on(event: CircuitBreakerEvent, handler: (data: CircuitBreakerEventData) => void): () => void {
    assertOneOf("Cannot subscribe to circuit breaker", "event", event, EVENTS);
    assertFunction("Cannot subscribe to circuit breaker", "handler", handler);
    this.#handlers ??= new Map();
    let set = this.#handlers.get(event);
    if (!set) this.#handlers.set(event, set = new Set());
    set.add(handler);
    return () => {
      set.delete(handler);
    };
  }

  #acquire(): boolean {
    const state = this.state;
    if (state === "closed") return false;
    if (state === "half-open" && !this.#trialInFlight) {
      this.#trialInFlight = true;
      return true;
    }
    const retryAfter = state === "open"
      ? Math.max(0, this.#openedAt + this.#resetTimeout - Date.now())
      : 0;
    const error = new CircuitOpenError(
      retryAfter,
      state === "open"
        ? `Circuit breaker is open; retry in ${retryAfter} ms`
        : "Circuit breaker is half-open and its trial call is in flight",
    );
    this.#emit("reject", { error });
    throw error;
  }

  #release(error: unknown, ok: boolean, isTrial: boolean): void {
    // A trial that outlived a reset() or a reopening is an ordinary call now.
    const trial = isTrial && this.#state === "half-open" && this.#trialInFlight;
    if (trial) this.#trialInFlight = false;
    if (ok) {
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
    this.#emit("failure", { error });
    if (trial) {
      this.#open();
    } else if (this.#state === "closed" && ++this.#failures >= this.#failureThreshold) {
      this.#open();
    }
  }

  #open(): void {
    this.#failures = 0;
    this.#successes = 0;
    this.#openedAt = Date.now();
    this.#transition("open");
  }

  #transition(to: CircuitState): void {
    const from = this.#state;
    this.#state = to;
    if (from === to) return;
    this.#emit("stateChange", { from });
    this.#emit(to === "open" ? "open" : to === "closed" ? "close" : "halfOpen");
  }

  #emit(event: CircuitBreakerEvent, extra?: Partial<CircuitBreakerEventData>): void {
    const set = this.#handlers?.get(event);
    if (!set || set.size === 0) return;
    const data: CircuitBreakerEventData = { event, state: this.#state, ...extra };
    for (const handler of set) {
      try {
        handler(data);
      } catch (error) {
        callLogger.error({ err: error, event }, `circuit breaker: a '${event}' handler threw`);
      }
    }
  }
}
