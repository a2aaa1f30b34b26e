// Small named validators, shared by the core and the plugin. Each throws a
// TypeError (wrong type) or RangeError (right type, bad value) whose message
// names what failed, the option, the accepted values and what was received.

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

/** Throws `${what}: "${option}" must be ${accepted}, received …`. */
export function fail(
  what: string,
  option: string,
  accepted: string,
  value: unknown,
  range: boolean,
): never {
  const message = `${what}: "${option}" must be ${accepted}, received ${describe(value)}`;
  throw range ? new RangeError(message) : new TypeError(message);
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

/** Throws if `options` has keys outside `known` (catches typos such as `timout`). */
export function assertKnownKeys(what: string, options: object, known: readonly string[]): void {
  for (const key in options) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${what}: unknown option "${key}"; accepted options are ${
          known.map((k) => `"${k}"`).join(", ")
        }`,
      );
    }
  }
}
