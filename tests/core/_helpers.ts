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

/** What {@linkcode recordingLogger} records. */
export interface RecordingLogger {
  calls: { level: string; obj: unknown; msg: string | undefined }[];
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): RecordingLogger;
}

/**
 * A pino-style logger that records every `(obj, msg)` call. Like pino's, its
 * `child(bindings)` writes to the same record with the bindings merged into
 * each entry's object (a message-only call gets them as its object).
 */
export function recordingLogger(
  calls: RecordingLogger["calls"] = [],
  bindings?: Record<string, unknown>,
): RecordingLogger {
  const write = (level: string) => (obj: unknown, msg?: string) => {
    if (bindings === undefined) calls.push({ level, obj, msg });
    else if (typeof obj === "string" && msg === undefined) {
      calls.push({ level, obj: { ...bindings }, msg: obj });
    } else if (obj instanceof Error) calls.push({ level, obj: { ...bindings, err: obj }, msg });
    else if (typeof obj === "object" && obj !== null) {
      calls.push({ level, obj: { ...bindings, ...obj }, msg });
    } else calls.push({ level, obj: { ...bindings, value: obj }, msg });
  };
  return {
    calls,
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (more) => recordingLogger(calls, { ...bindings, ...more }),
  };
}

/**
 * A logger that takes go-go-scope's `(message, ...args)` calls (it has no
 * `child()`), recording each call's arguments.
 */
export function messageLogger(): {
  calls: { level: string; args: unknown[] }[];
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
} {
  const calls: { level: string; args: unknown[] }[] = [];
  const write = (level: string) => (...args: unknown[]) => void calls.push({ level, args });
  return {
    calls,
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
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
