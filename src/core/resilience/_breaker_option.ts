// The `circuitBreaker` option of scopes, tasks and the Fastify plugin: which
// breaker a value names (an instance, options for a new one, or `false`), and
// how a keyed breaker shares its state through the scope's persistence.
import { CircuitBreaker, isShared, shareState } from "./circuit_breaker.ts";
import type { CircuitBreakerOptions } from "./circuit_breaker_options.ts";
import {
  circuitBreakerProviderOf,
  type PersistenceNode,
  requireCircuitBreakerProvider,
} from "../persistence/scope_persistence.ts";
import type { Logger } from "../base/types.ts";
import { fail, INVALID_OPTION, optionError, UNKNOWN_OPTION } from "../base/_validate.ts";

/** What {@linkcode toBreaker} accepts besides a `CircuitBreaker` instance. */
export interface BreakerAccepts {
  /** A plain options object, turned into a new breaker. */
  readonly orOptions?: boolean;
  /** `false`: no breaker, not even an inherited one. */
  readonly orFalse?: boolean;
}

/**
 * Returns the breaker `value` names: a `CircuitBreaker` instance, or what
 * `accepts` allows (a new breaker from a plain options object, `false`).
 */
export function toBreaker(
  what: string,
  option: string,
  value: unknown,
  accepts: BreakerAccepts,
): CircuitBreaker | false {
  if (value instanceof CircuitBreaker) return value;
  if (accepts.orFalse === true && value === false) return false;
  const choices = ["a CircuitBreaker"];
  if (accepts.orOptions === true) choices.push("its options object");
  if (accepts.orFalse === true) choices.push("false");
  const accepted = choices.length === 1
    ? choices[0]!
    : `${choices.slice(0, -1).join(", ")} or ${choices[choices.length - 1]}`;
  const plain = typeof value === "object" && value !== null && !Array.isArray(value) &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);
  if (accepts.orOptions !== true || !plain) fail(what, option, accepted, value, false);
  try {
    return new CircuitBreaker(value as CircuitBreakerOptions);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw optionError(
      `${what}: "${option}" is not valid circuit breaker options: ${reason}`,
      error instanceof RangeError,
      (error as { code?: unknown }).code === UNKNOWN_OPTION ? UNKNOWN_OPTION : INVALID_OPTION,
      { cause: error },
    );
  }
}

/**
 * Shares a keyed breaker's state through the scope's
 * `persistence.circuitBreaker` (a breaker given its own `stateProvider`
 * shares already). Without persistence the breaker stays in this process.
 * Outages are logged with the scope's logger.
 *
 * @throws {TypeError} When the scope's persistence cannot hold breaker state,
 * naming the method it lacks.
 */
export function shareBreakerState(
  scope: PersistenceNode & { readonly logger: Logger },
  breaker: CircuitBreaker,
): void {
  if (breaker.key === undefined || isShared(breaker)) return;
  // Only the scope given the breaker insists; a child inheriting it shares if it can.
  const parent = scope.parent as { readonly circuitBreaker?: unknown } | undefined;
  const provider = parent?.circuitBreaker === breaker
    ? circuitBreakerProviderOf(scope)
    : requireCircuitBreakerProvider(scope, breaker.key);
  if (provider !== undefined) shareState(breaker, provider, scope.logger);
}
