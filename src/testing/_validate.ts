// Argument checks of the testing kit: the core's own validators (same codes and
// `Cannot X: "opt" must be ..., received Y` messages), through the adapters' door.
import { assertMs as assertCoreMs } from "../core/internal.ts";

export { fail } from "../core/internal.ts";

/** Throws unless `value` is a finite number ≥ 0 (milliseconds). */
export function assertMs(what: string, option: string, value: unknown): asserts value is number {
  assertCoreMs(what, option, value, true);
}
