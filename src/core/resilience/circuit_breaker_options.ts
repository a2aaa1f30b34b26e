/**
 * A circuit breaker's options, with the states, events and hooks they name:
 * their types, their defaults and their validation.
 *
 * @module
 */
import { type CircuitOpenError, isAbortError } from "../base/errors.ts";
import type { CircuitBreakerStateProvider } from "../persistence/persistence.ts";
import type { CircuitBreakerAdvancedOptions } from "./_adaptive_threshold.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  fail,
} from "../base/_validate.ts";

export type { CircuitBreakerAdvancedOptions };

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
  | "reject"
  | "thresholdAdapt";

/**
 * The arguments each event's handlers receive, as go-go-scope documents them
 * (`failure` and `reject` also get the error, which go-go-scope does not pass).
 */
export interface CircuitBreakerEvents {
  /** The state changed; `failureCount` is the count that opened it (0 when closing). */
  stateChange: [from: CircuitState, to: CircuitState, failureCount: number];
  /** It opened after `failureCount` consecutive failures (1 for a failed trial). */
  open: [failureCount: number];
  /** `resetTimeout` passed: the next call is the trial. */
  halfOpen: [];
  /** It closed (trial successes, or `reset()`). */
  close: [];
  /** A guarded call succeeded. */
  success: [];
  /** A guarded call failed and the failure counted. */
  failure: [error: unknown];
  /** A call was refused because the breaker is open (or its trial is in flight). */
  reject: [error: CircuitOpenError];
  /** The adaptive threshold changed (`advanced.adaptiveThreshold`). */
  thresholdAdapt: [threshold: number, errorRate: number];
}

/** A handler of `event`. */
export type CircuitBreakerEventHandler<E extends CircuitBreakerEvent> = (
  ...args: CircuitBreakerEvents[E]
) => void;

/** The option hooks of a breaker: each is an `on()` handler given at construction. */
export interface CircuitBreakerHooks {
  /** Called on every state change, like an `on('stateChange')` handler. */
  onStateChange?: (from: CircuitState, to: CircuitState, failureCount: number) => void;
  /** Called when it opens, like an `on('open')` handler. */
  onOpen?: (failureCount: number) => void;
  /** Called when it closes, like an `on('close')` handler. */
  onClose?: () => void;
  /** Called when it turns half-open, like an `on('halfOpen')` handler. */
  onHalfOpen?: () => void;
}

/** Options of {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions extends CircuitBreakerHooks {
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
  /** Opt-in refinements: the adaptive threshold. */
  advanced?: CircuitBreakerAdvancedOptions;
  /**
   * A name for the breaker's state in a shared store. With a `stateProvider`
   * here, or a `persistence` adapter on the scope or the Fastify plugin that
   * uses the breaker, every process using the same key shares one state: a
   * breaker opened by one process opens in all of them, and a half-open
   * breaker lets one trial through across the fleet.
   * @default undefined (state local to this process)
   */
  key?: string;
  /** Where a keyed breaker shares its state (a `RedisAdapter`, say). @default the scope's `persistence.circuitBreaker` */
  stateProvider?: CircuitBreakerStateProvider;
}

const KNOWN = [
  "failureThreshold",
  "resetTimeout",
  "successThreshold",
  "isFailure",
  "onStateChange",
  "onOpen",
  "onClose",
  "onHalfOpen",
  "advanced",
  "key",
  "stateProvider",
] as const satisfies readonly (keyof CircuitBreakerOptions)[];
/** What a breaker's option errors start with. */
export const WHAT = "Cannot create circuit breaker";

/** Checks that `options` is an object with no key outside the options. */
export function assertBreakerOptions(options: unknown): asserts options is CircuitBreakerOptions {
  assertObject(WHAT, "options", options);
  assertKnownKeys(WHAT, options, KNOWN);
}

/** The default `isFailure`: every error counts except a cancellation. */
export function defaultIsFailure(error: unknown): boolean {
  return !isAbortError(error);
}

/** A breaker's thresholds, timeout and `isFailure`, defaults filled in. */
export interface BreakerSettings {
  failureThreshold: number;
  resetTimeout: number;
  successThreshold: number;
  isFailure: (error: unknown) => boolean;
}

/** Checks `options` (no unknown key) and its thresholds, timeout and `isFailure`; fills in the defaults. */
export function checkBreakerSettings(options: CircuitBreakerOptions): BreakerSettings {
  assertBreakerOptions(options);
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
  return { failureThreshold, resetTimeout, successThreshold, isFailure };
}

/** Checks the `stateProvider` option (and that a `key` comes with it). */
export function assertStateProvider(
  stateProvider: unknown,
  key: string | undefined,
): asserts stateProvider is CircuitBreakerStateProvider {
  const p = stateProvider as Partial<CircuitBreakerStateProvider> | null;
  if (
    typeof p !== "object" || p === null || typeof p.recordFailure !== "function" ||
    typeof p.getState !== "function"
  ) {
    fail(WHAT, "stateProvider", "a CircuitBreakerStateProvider", stateProvider, false);
  }
  if (key === undefined) {
    fail(WHAT, "key", "a string when stateProvider is given", key, false);
  }
}
