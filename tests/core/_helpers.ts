// Small helpers shared by the core tests. Only web-standard APIs, so the
// files run under `deno test` and, compiled, under `node --test`.

/** Resolves after `ms` milliseconds (a real timer, always awaited). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolve and reject functions. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** Creates a {@linkcode Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A promise that never settles by itself: it rejects with the signal's reason when it aborts. */
export function untilAborted<T = never>(signal: AbortSignal): Promise<T> {
  return new Promise<T>((_resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** A promise that never settles (for functions that ignore their signal). */
export function forever<T = never>(): Promise<T> {
  return new Promise<T>(() => {});
}

/** Lets pending microtasks and one macrotask turn run. */
export function tick(): Promise<void> {
  return sleep(0);
}

/** A logger that records every call. */
export function recordingLogger(): {
  calls: { level: string; obj: unknown; msg: string | undefined }[];
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
} {
  const calls: { level: string; obj: unknown; msg: string | undefined }[] = [];
  return {
    calls,
    debug: (obj, msg) => calls.push({ level: "debug", obj, msg }),
    info: (obj, msg) => calls.push({ level: "info", obj, msg }),
    warn: (obj, msg) => calls.push({ level: "warn", obj, msg }),
    error: (obj, msg) => calls.push({ level: "error", obj, msg }),
  };
}

/**
 * Awaits `p` while a referenced timer keeps the event loop alive. The core
 * unrefs its own timers, so a test that waits only on them (a function that
 * ignores its signal, a timeout) needs this or the runtime sees an idle loop.
 */
export async function alive<T>(p: PromiseLike<T>, ms = 5000): Promise<T> {
  const timer = setTimeout(() => {}, ms);
  try {
    return await p;
  } finally {
    clearTimeout(timer);
  }
}

/** Disposes a scope (what `await using` does at the end of a block). */
export function dispose(s: { [Symbol.asyncDispose](): Promise<void> }): Promise<void> {
  return s[Symbol.asyncDispose]();
}
