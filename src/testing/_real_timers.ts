// The runtime's own clock and timers, captured when the testing kit loads, so
// that the kit can wait in real time while a virtual clock is installed.
//
// Capturing them at load time is deliberate here (and only here): the virtual
// clock replaces the globals, and the kit's own waits must not depend on it.

type Immediate = (fn: () => void) => unknown;

const g = globalThis as typeof globalThis & { setImmediate?: Immediate };
const setTimeoutReal: typeof setTimeout = globalThis.setTimeout;
const clearTimeoutReal: typeof clearTimeout = globalThis.clearTimeout;
const setImmediateReal: Immediate | undefined = g.setImmediate;
// The function itself: the clock also replaces `now` on the original performance
// object where the runtime shares it with `perf_hooks`.
const performanceNowReal: () => number = globalThis.performance.now.bind(globalThis.performance);

/** Real milliseconds from a fixed origin (`performance.now()` of the runtime). */
export function realNow(): number {
  return performanceNowReal();
}

/** Resolves after one real macrotask: every pending promise callback has run by then. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    if (setImmediateReal !== undefined) setImmediateReal(resolve);
    else setTimeoutReal(resolve, 0);
  });
}

/** Resolves after `ms` real milliseconds. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeoutReal(resolve, ms));
}

/**
 * Settles with `promise`, or rejects with `onTimeout()` after `ms` real
 * milliseconds (the real timer is cleared either way).
 */
export function withinReal<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeoutReal(() => reject(onTimeout()), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeoutReal(timer));
}

/**
 * Polls `done` once per real macrotask (then every few milliseconds) until it
 * holds, for at most `ms` real milliseconds; resolves to whether it held.
 */
export async function pollReal(done: () => boolean, ms: number): Promise<boolean> {
  const until = realNow() + ms;
  for (let turn = 0; !done(); turn++) {
    if (realNow() >= until) return false;
    if (turn < 20) await nextMacrotask();
    else await realSleep(2);
  }
  return true;
}
