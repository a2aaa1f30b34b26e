/**
 * The errors of the testing kit's virtual clock, each with a stable `code`.
 *
 * @module
 */

/** The `code` values of {@linkcode VirtualClockError}. */
export type VirtualClockErrorCode =
  /** `install()` while a virtual clock (this one or another) is installed. */
  | "GGS_ERR_CLOCK_INSTALLED"
  /** `runAll()` fired more timers than the controller's `loopLimit`. */
  | "GGS_ERR_CLOCK_LOOP";

/**
 * A misuse of the virtual clock: installing a second one, or a `runAll()`
 * that would never end. Not an HTTP error, so it has no `statusCode`.
 *
 * @example
 * ```ts
 * import { createTimeController, VirtualClockError } from "@go-go-scope/adapter-fastify/testing";
 *
 * const time = createTimeController();
 * time.install();
 * try {
 *   createTimeController().install();
 * } catch (err) {
 *   console.log(err instanceof VirtualClockError, (err as VirtualClockError).code);
 *   // true GGS_ERR_CLOCK_INSTALLED
 * } finally {
 *   time.uninstall();
 * }
 * ```
 */
export class VirtualClockError extends Error {
  /** Stable machine-readable code. */
  readonly code: VirtualClockErrorCode;
  /**
   * Creates the error.
   *
   * @param message What went wrong and what to do instead.
   * @param code Its stable code.
   */
  constructor(message: string, code: VirtualClockErrorCode) {
    super(message);
    this.name = "VirtualClockError";
    this.code = code;
  }
}
