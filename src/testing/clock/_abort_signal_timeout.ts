// A virtual `AbortSignal.timeout()`: while a virtual clock is installed, the
// signal aborts (with a "TimeoutError" DOMException, as the real one does)
// when that clock reaches its time, not when real time does.

/** The part of a fake clock the patch schedules on. */
interface TimerSource {
  setTimeout(fn: () => void, ms: number): unknown;
}

/**
 * Replaces `AbortSignal.timeout` with one scheduled on `clock`; returns the
 * function that puts the original back. Does nothing where the runtime has no
 * `AbortSignal.timeout`.
 */
export function patchAbortSignalTimeout(clock: TimerSource): () => void {
  const original = Object.getOwnPropertyDescriptor(AbortSignal, "timeout");
  if (original === undefined || typeof original.value !== "function") return () => {};
  const timeout = function timeout(milliseconds: number): AbortSignal {
    // WebIDL `[EnforceRange] unsigned long long`, as the real method checks it.
    const ms = Math.trunc(Number(milliseconds));
    if (!Number.isFinite(Number(milliseconds)) || ms < 0 || ms > Number.MAX_SAFE_INTEGER) {
      throw new TypeError(
        `Cannot create AbortSignal.timeout: "milliseconds" must be an integer from 0 to ` +
          `${Number.MAX_SAFE_INTEGER}, received ${String(milliseconds)}`,
      );
    }
    const controller = new AbortController();
    const handle = clock.setTimeout(
      () => controller.abort(new DOMException("The operation timed out.", "TimeoutError")),
      ms,
    );
    // The real timer of AbortSignal.timeout() never holds the process open.
    (handle as { unref?: () => unknown } | undefined)?.unref?.();
    return controller.signal;
  };
  Object.defineProperty(AbortSignal, "timeout", { ...original, value: timeout });
  return () => Object.defineProperty(AbortSignal, "timeout", original);
}
