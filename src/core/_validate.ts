// Small named validators. Each throws a TypeError or RangeError whose message
// names what failed, the option, the accepted values and what was received.

/** Renders a received value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `a function`;
  if (Array.isArray(value)) return "an array";
  const name = (value as object).constructor?.name;
  return name && name !== "Object" ? `an instance of ${name}` : "an object";
}

/** Throws unless `value` is a finite number > 0 (milliseconds). */
export function assertPositiveMs(
  what: string,
  option: string,
  value: unknown,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${what}: "${option}" must be a finite number of milliseconds > 0, received ${
        describe(value)
      }`,
    );
  }
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `${what}: "${option}" must be a finite number of milliseconds > 0, received ${
        describe(value)
      }`,
    );
  }
}

/** Throws unless `value` is an integer >= `min`. */
export function assertInteger(
  what: string,
  option: string,
  value: unknown,
  min: number,
): asserts value is number {
  const accepted = min === 0 ? "an integer >= 0" : `an integer >= ${min}`;
  if (typeof value !== "number") {
    throw new TypeError(`${what}: "${option}" must be ${accepted}, received ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${what}: "${option}" must be ${accepted}, received ${describe(value)}`);
  }
}

/** Throws unless `value` is a finite number >= 0. */
export function assertNonNegativeMs(
  what: string,
  option: string,
  value: unknown,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `${what}: "${option}" must be a finite number of milliseconds >= 0, received ${
        describe(value)
      }`,
    );
  }
  if (!(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(
      `${what}: "${option}" must be a finite number of milliseconds >= 0, received ${
        describe(value)
      }`,
    );
  }
}

/** Throws unless `value` is a function. */
export function assertFunction(what: string, option: string, value: unknown): void {
  if (typeof value !== "function") {
    throw new TypeError(`${what}: "${option}" must be a function, received ${describe(value)}`);
  }
}

/** Throws unless `value` is a string. */
export function assertString(
  what: string,
  option: string,
  value: unknown,
): asserts value is string {
  if (typeof value !== "string") {
    throw new TypeError(`${what}: "${option}" must be a string, received ${describe(value)}`);
  }
}

/** Throws unless `value` is one of `accepted`. */
export function assertOneOf<T extends string>(
  what: string,
  option: string,
  value: unknown,
  accepted: readonly T[],
): asserts value is T {
  if (!accepted.includes(value as T)) {
    throw new TypeError(
      `${what}: "${option}" must be one of ${accepted.map((a) => `'${a}'`).join(", ")}, received ${
        describe(value)
      }`,
    );
  }
}

/** Throws unless `value` is a non-null, non-array object. */
export function assertObject<T>(
  what: string,
  option: string,
  value: T,
): asserts value is T & object {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${what}: "${option}" must be an object, received ${describe(value)}`);
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
