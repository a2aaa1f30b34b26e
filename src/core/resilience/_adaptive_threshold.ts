// The circuit breaker's adaptive failure threshold (`advanced.adaptiveThreshold`):
// the higher the recent error rate, the fewer consecutive failures open the
// breaker. The error rate is counted in fixed time slices over the window, so
// memory stays constant however many calls go through (go-go-scope keeps one
// record per call).
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  fail,
} from "../base/_validate.ts";

/** The `advanced` options of a circuit breaker. */
export interface CircuitBreakerAdvancedOptions {
  /**
   * Adapt the failure threshold to the error rate of the last
   * `errorRateWindowMs`: from `maxThreshold` at a 0% error rate down to
   * `minThreshold` at 50% or more. Until 5 calls are counted in the window,
   * `failureThreshold` applies. @default false
   */
  adaptiveThreshold?: boolean;
  /** The lowest adaptive threshold. @default 2 */
  minThreshold?: number;
  /** The highest adaptive threshold. @default 10 */
  maxThreshold?: number;
  /** Milliseconds over which the error rate is measured. @default 60000 */
  errorRateWindowMs?: number;
  /** Called with `(threshold, errorRate)` whenever the adaptive threshold changes. */
  onThresholdAdapt?: (threshold: number, errorRate: number) => void;
}

const KNOWN = [
  "adaptiveThreshold",
  "minThreshold",
  "maxThreshold",
  "errorRateWindowMs",
  "onThresholdAdapt",
] as const satisfies readonly (keyof CircuitBreakerAdvancedOptions)[];
const WHAT = "Cannot create circuit breaker";
/** Calls needed in the window before the error rate is trusted. */
const MIN_CALLS = 5;
/** Time slices the window is counted in. */
const SLICES = 10;

/** Checks `advanced`; returns the adaptive state when it is enabled, else `undefined`. */
export function adaptiveFrom(
  advanced: CircuitBreakerAdvancedOptions | undefined,
  base: number,
): AdaptiveThreshold | undefined {
  if (advanced === undefined) return undefined;
  assertObject(WHAT, "advanced", advanced);
  assertKnownKeys(`${WHAT} ("advanced")`, advanced, KNOWN);
  const {
    adaptiveThreshold = false,
    minThreshold = 2,
    maxThreshold = 10,
    errorRateWindowMs = 60000,
    onThresholdAdapt,
  } = advanced;
  if (typeof adaptiveThreshold !== "boolean") {
    fail(WHAT, "advanced.adaptiveThreshold", "a boolean", adaptiveThreshold, false);
  }
  assertInteger(WHAT, "advanced.minThreshold", minThreshold, 1);
  assertInteger(WHAT, "advanced.maxThreshold", maxThreshold, minThreshold);
  assertMs(WHAT, "advanced.errorRateWindowMs", errorRateWindowMs);
  if (onThresholdAdapt !== undefined) {
    assertFunction(WHAT, "advanced.onThresholdAdapt", onThresholdAdapt);
  }
  if (!adaptiveThreshold) return undefined;
  return new AdaptiveThreshold(base, minThreshold, maxThreshold, errorRateWindowMs);
}

/** Outcome counts per time slice, and the threshold they give. */
export class AdaptiveThreshold {
  readonly #base: number;
  readonly #min: number;
  readonly #max: number;
  readonly #slice: number;
  readonly #ok = new Uint32Array(SLICES);
  readonly #bad = new Uint32Array(SLICES);
  /** The slice number (time / slice width) of the newest slot. */
  #head = 0;
  #threshold: number;

  constructor(base: number, min: number, max: number, windowMs: number) {
    this.#base = base;
    this.#min = min;
    this.#max = max;
    this.#slice = windowMs / SLICES;
    this.#threshold = base;
  }

  /** The threshold in force (the last one computed). */
  get threshold(): number {
    return this.#threshold;
  }

  /** Failures / calls counted in the window now (0 with no call). */
  errorRate(now: number = performance.now()): number {
    this.#advance(now);
    let ok = 0;
    let bad = 0;
    for (let i = 0; i < SLICES; i++) {
      ok += this.#ok[i]!;
      bad += this.#bad[i]!;
    }
    return ok + bad === 0 ? 0 : bad / (ok + bad);
  }

  /**
   * Counts one call's outcome and recomputes the threshold. Returns the
   * error rate when the threshold changed (the caller emits `thresholdAdapt`),
   * else `undefined`.
   */
  record(ok: boolean, now: number = performance.now()): number | undefined {
    this.#advance(now);
    const slot = this.#head % SLICES;
    if (ok) this.#ok[slot]!++;
    else this.#bad[slot]!++;
    let calls = 0;
    let bad = 0;
    for (let i = 0; i < SLICES; i++) {
      calls += this.#ok[i]! + this.#bad[i]!;
      bad += this.#bad[i]!;
    }
    const rate = bad / calls;
    let next = this.#base;
    if (calls >= MIN_CALLS) {
      // Linear from max (0% errors) down to min (50% errors or more).
      const severity = Math.min(rate, 0.5) / 0.5;
      next = Math.max(this.#min, Math.round(this.#max - severity * (this.#max - this.#min)));
    }
    if (next === this.#threshold) return undefined;
    this.#threshold = next;
    return rate;
  }

  /** Forgets every outcome; the threshold goes back to `failureThreshold`. */
  reset(): void {
    this.#ok.fill(0);
    this.#bad.fill(0);
    this.#threshold = this.#base;
  }

  /** Moves the window to `now`, clearing the slices that fell out of it. */
  #advance(now: number): void {
    const head = Math.floor(now / this.#slice);
    if (head <= this.#head) return;
    const stale = Math.min(head - this.#head, SLICES);
    for (let i = 1; i <= stale; i++) {
      const slot = (this.#head + i) % SLICES;
      this.#ok[slot] = 0;
      this.#bad[slot] = 0;
    }
    this.#head = head;
  }
}
