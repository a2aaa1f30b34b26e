// Validators for the plugin's options and per-route settings. Each throws a
// TypeError (wrong type) or RangeError (right type, bad value) whose message
// names the option, the accepted values and what was received.

import { CircuitBreaker, type CircuitBreakerOptions } from "../core/mod.ts";
import { fail } from "../core/_validate.ts";

/** A finite number of milliseconds > 0; `false` too when `allowFalse`. */
export function checkTimeout(
  where: string,
  option: string,
  value: unknown,
  allowFalse: boolean,
): number | false | undefined {
  if (value === undefined || (allowFalse && value === false)) return value;
  const accepted = allowFalse
    ? "a finite number > 0, false or omitted"
    : "a finite number > 0 or omitted";
  if (typeof value !== "number") fail(where, option, accepted, value, false);
  if (!(value > 0) || !Number.isFinite(value)) fail(where, option, accepted, value, true);
  return value;
}

/** A positive integer or `undefined`. */
export function checkConcurrency(
  where: string,
  option: string,
  value: unknown,
): number | undefined {
  if (value === undefined) return undefined;
  const accepted = "an integer >= 1 or omitted";
  if (typeof value !== "number") fail(where, option, accepted, value, false);
  if (!Number.isInteger(value) || value < 1) fail(where, option, accepted, value, true);
  return value;
}

/** A non-empty string or `undefined`. */
export function checkName(where: string, option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") fail(where, option, "a non-empty string or omitted", value, false);
  if (value.length === 0) fail(where, option, "a non-empty string or omitted", value, true);
  return value;
}

/**
 * A `CircuitBreaker` instance, or (when `allowOptions`) a plain options object
 * turned into a new breaker, or (when `allowFalse`) `false`.
 */
export function checkBreaker(
  where: string,
  option: string,
  value: unknown,
  allowOptions: boolean,
  allowFalse: boolean,
): CircuitBreaker | false | undefined {
  if (value === undefined || value instanceof CircuitBreaker) return value;
  if (allowFalse && value === false) return false;
  const accepted = allowOptions
    ? "a CircuitBreaker, its options object or omitted"
    : "a CircuitBreaker, false or omitted";
  const plain = typeof value === "object" && value !== null && !Array.isArray(value) &&
    (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);
  if (!allowOptions || !plain) fail(where, option, accepted, value, false);
  try {
    return new CircuitBreaker(value as CircuitBreakerOptions);
  } catch (error) {
    const message = `${where}: "${option}" is not valid circuit breaker options: ${
      error instanceof Error ? error.message : String(error)
    }`;
    throw error instanceof RangeError
      ? new RangeError(message, { cause: error })
      : new TypeError(message, { cause: error });
  }
}

/** A plain object (the options bag) or `undefined`. */
export function checkObject(where: string, option: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return;
  fail(where, option, "an object or omitted", value, false);
}
