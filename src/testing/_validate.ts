// Argument checks of the testing kit, phrased like the core's: a TypeError (wrong
// type) or RangeError (bad value) with the stable code GGS_ERR_INVALID_OPTION and
// a message `Cannot X: "opt" must be ..., received Y`.

/** Renders a received value for an error message. */
function describe(value: unknown): string {
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
  const error = range ? new RangeError(message) : new TypeError(message);
  Object.defineProperty(error, "code", { value: "GGS_ERR_INVALID_OPTION", enumerable: true });
  throw error;
}

/** Throws unless `value` is a finite number ≥ 0 (milliseconds). */
export function assertMs(what: string, option: string, value: unknown): asserts value is number {
  const accepted = "a finite number of milliseconds >= 0";
  if (typeof value !== "number") fail(what, option, accepted, value, false);
  if (!(value >= 0) || !Number.isFinite(value)) fail(what, option, accepted, value, true);
}
