// The one set of validators, shared by the core and the Fastify plugin. Each
// throws a TypeError (wrong type) or RangeError (right type, bad value) whose
// message names what failed (the API, or the plugin and route), the option,
// the accepted values and what was received, and whose `code` is stable:
// GGS_ERR_INVALID_OPTION for a bad value, GGS_ERR_UNKNOWN_OPTION for a key
// that is not an option (with a did-you-mean when one is close).

/** The `code` of every invalid-value error. */
export const INVALID_OPTION = "GGS_ERR_INVALID_OPTION";
/** The `code` of every unknown-key error. */
export const UNKNOWN_OPTION = "GGS_ERR_UNKNOWN_OPTION";

/** A validation error: a TypeError or RangeError with a stable `code`. */
export type OptionError = (TypeError | RangeError) & { readonly code: string };

/** Renders a received value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === "function") return "a function";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value)) return "an array";
  const name = (value as object).constructor?.name;
  return name && name !== "Object" ? `an instance of ${name}` : "an object";
}

/** A TypeError (or RangeError when `range`) carrying `code`. */
export function optionError(
  message: string,
  range: boolean,
  code: string = INVALID_OPTION,
  options?: { cause?: unknown },
): OptionError {
  const error = range ? new RangeError(message, options) : new TypeError(message, options);
  Object.defineProperty(error, "code", { value: code, enumerable: true });
  return error as OptionError;
}

/** A TypeError with the stable code `GGS_ERR_INVALID_OPTION`, for bad input that `fail()` cannot phrase. */
export function typeError(message: string): OptionError {
  return optionError(message, false);
}

/** Throws `${what}: "${option}" must be ${accepted}, received …` (code GGS_ERR_INVALID_OPTION). */
export function fail(
  what: string,
  option: string,
  accepted: string,
  value: unknown,
  range: boolean,
): never {
  throw optionError(`${what}: "${option}" must be ${accepted}, received ${describe(value)}`, range);
}

/** Throws unless `value` is a finite number of milliseconds, > 0 (or >= 0 with `orZero`). */
export function assertMs(
  what: string,
  option: string,
  value: unknown,
  orZero = false,
): asserts value is number {
  // The message is built only on failure: this runs for every task with a timeout.
  if (typeof value !== "number") fail(what, option, acceptedMs(orZero), value, false);
  if (!(orZero ? value >= 0 : value > 0) || !Number.isFinite(value)) {
    fail(what, option, acceptedMs(orZero), value, true);
  }
}

/** Throws unless `value` is a finite number of milliseconds > 0, or `false` (no deadline). */
export function assertMsOrFalse(
  what: string,
  option: string,
  value: unknown,
): asserts value is number | false {
  if (value === false) return;
  const accepted = "a finite number of milliseconds > 0 or false";
  if (typeof value !== "number") fail(what, option, accepted, value, false);
  if (!(value > 0) || !Number.isFinite(value)) fail(what, option, accepted, value, true);
}

function acceptedMs(orZero: boolean): string {
  return `a finite number of milliseconds ${orZero ? ">=" : ">"} 0`;
}

/** Throws unless `value` is an integer >= `min`. */
export function assertInteger(
  what: string,
  option: string,
  value: unknown,
  min: number,
): asserts value is number {
  const accepted = `an integer >= ${min}`;
  if (typeof value !== "number") fail(what, option, accepted, value, false);
  if (!Number.isInteger(value) || value < min) fail(what, option, accepted, value, true);
}

/** Throws unless `value` is a function. */
export function assertFunction(what: string, option: string, value: unknown): void {
  if (typeof value !== "function") fail(what, option, "a function", value, false);
}

/** Throws unless `value` is a string. */
export function assertString(
  what: string,
  option: string,
  value: unknown,
): asserts value is string {
  if (typeof value !== "string") fail(what, option, "a string", value, false);
}

/** Throws unless `value` is a string of at least one character. */
export function assertNonEmptyString(
  what: string,
  option: string,
  value: unknown,
): asserts value is string {
  if (typeof value !== "string") fail(what, option, "a non-empty string", value, false);
  if (value.length === 0) fail(what, option, "a non-empty string", value, true);
}

/** Throws unless `value` is one of `accepted`. */
export function assertOneOf<T extends string>(
  what: string,
  option: string,
  value: unknown,
  accepted: readonly T[],
): asserts value is T {
  if (!accepted.includes(value as T)) {
    fail(what, option, `one of ${accepted.map((a) => `'${a}'`).join(", ")}`, value, false);
  }
}

/** Throws unless `value` is a non-null, non-array object. */
export function assertObject<T>(
  what: string,
  option: string,
  value: T,
): asserts value is T & object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(what, option, "an object", value, false);
  }
}

/** Throws unless `value` is an instance of `type` (named `name` in the message). */
export function assertInstance<T>(
  what: string,
  option: string,
  value: unknown,
  type: abstract new (...args: never[]) => T,
  name: string,
): asserts value is T {
  if (!(value instanceof type)) fail(what, option, name, value, false);
}

/**
 * Throws if `options` has keys outside `known` (catches typos such as
 * `timout`), naming the closest known key when one is near.
 */
export function assertKnownKeys(what: string, options: object, known: readonly string[]): void {
  for (const key in options) {
    if (!known.includes(key)) throw unknownKey(what, key, known);
  }
}

function unknownKey(what: string, key: string, known: readonly string[]): OptionError {
  const near = closest(key, known);
  const hint = near === undefined ? "" : ` (did you mean "${near}"?)`;
  return optionError(
    `${what}: unknown option "${key}"${hint}; accepted options are ${
      known.map((k) => `"${k}"`).join(", ")
    }, received ${describe(key)}`,
    false,
    UNKNOWN_OPTION,
  );
}

/** The known key nearest to `key` by edit distance, if it is close enough to be a typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.ceil(key.length / 3)) + 1;
  const lower = key.toLowerCase();
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance (keys are short). */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        prev[j]! + 1,
        row[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The option names of `T`, checked by the compiler: `keysOf<TaskOptions>()([...])`
 * fails to compile when the list misses a key of the interface (the error
 * names it under `missing`) or holds a key the interface lacks.
 */
export function keysOf<T extends object>(): <const K extends readonly (keyof T & string)[]>(
  keys:
    & K
    & ([Exclude<keyof T, K[number]>] extends [never] ? unknown
      : { readonly missing: Exclude<keyof T, K[number]> }),
) => K {
  return (keys) => keys;
}
