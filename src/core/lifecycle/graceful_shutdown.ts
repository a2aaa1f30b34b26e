/**
 * Graceful shutdown: {@linkcode GracefulShutdownController} and the scope
 * option `gracefulShutdown`. On a signal (or a call to `shutdown()`) it runs
 * `onShutdown`, cancels the scope, waits for its disposal up to `timeout`,
 * runs `onComplete`, then optionally exits.
 *
 * Signals come from a `signalSource`: by default the runtime's `process`
 * object when `globalThis.process.on` exists (Node, Deno 2, Bun); pass your
 * own anywhere else. Exiting uses `globalThis.process.exit` and happens only
 * where it exists.
 *
 * @module
 */
import { ABORT, ATTACH, DETACH, type Timer } from "../base/_symbols.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertMs,
  fail,
} from "../base/_validate.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/** Where shutdown signals come from: `process` fits. */
export interface SignalSource {
  /** Adds a listener for `signal`. */
  on(signal: string, listener: (signal: string) => void): unknown;
  /** Removes it. */
  off(signal: string, listener: (signal: string) => void): unknown;
}

/**
 * Options of the scope option `gracefulShutdown` and of the controller.
 *
 * @example
 * ```ts
 * import type { GracefulShutdownOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: GracefulShutdownOptions = { signals: ["SIGTERM"], timeout: 10_000, exit: false };
 * console.log(options.timeout); // 10000
 * ```
 */
export interface GracefulShutdownOptions {
  /** Signals that start a shutdown. @default ["SIGTERM", "SIGINT"] */
  signals?: string[];
  /** Ms to wait for the scope's disposal. @default 30000 */
  timeout?: number;
  /** Runs first, with the signal. */
  onShutdown?: (signal: string) => unknown;
  /** Runs after the scope was disposed (or the timeout passed). */
  onComplete?: () => unknown;
  /** Exit the process at the end (where `process.exit` exists). @default true */
  exit?: boolean;
  /** Exit code after a clean shutdown. @default 0 */
  successExitCode?: number;
  /** Exit code when the timeout passed. @default 1 */
  timeoutExitCode?: number;
  /** Where signals come from. @default `globalThis.process` when it has `on`/`off` */
  signalSource?: SignalSource;
}

interface Proc extends SignalSource {
  exit?: (code: number) => void;
}

const WHAT = "Cannot set up graceful shutdown";
const KNOWN = [
  "signals",
  "timeout",
  "onShutdown",
  "onComplete",
  "exit",
  "successExitCode",
  "timeoutExitCode",
  "signalSource",
] as const;

function runtimeProcess(): Proc | undefined {
  const p = (globalThis as { process?: Partial<Proc> }).process;
  return typeof p?.on === "function" && typeof p.off === "function" ? p as Proc : undefined;
}

/**
 * Shuts a scope down on a signal. Its signal listeners are removed by
 * `cleanup()`, after a shutdown, and when the scope aborts or is disposed.
 *
 * @example
 * ```ts
 * import { GracefulShutdownController, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const app = scope({ name: "app" });
 * const shutdown = new GracefulShutdownController(app, { exit: false, signals: [] });
 * await shutdown.shutdown("SIGTERM");
 * console.log(shutdown.isShutdownRequested, app.isDisposed); // true true
 * ```
 */
export class GracefulShutdownController {
  readonly #scope: ScopeLike;
  readonly #options: GracefulShutdownOptions;
  readonly #source: SignalSource | undefined;
  #signals: string[] = [];
  #requested = false;
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  readonly #listener = (signal: string): void => {
    void this.shutdown(signal);
  };

  /**
   * Listens for the signals.
   *
   * @param scope The scope to shut down.
   * @param options See {@linkcode GracefulShutdownOptions}.
   * @throws {TypeError | RangeError} When an option is invalid.
   */
  constructor(scope: ScopeLike, options: GracefulShutdownOptions = {}) {
    validate(options);
    this.#scope = scope;
    this.#options = options;
    this.#source = options.signalSource ?? runtimeProcess();
    if (scope.isAborted) return;
    scope[ATTACH](this);
    if (this.#source === undefined) return;
    for (const signal of options.signals ?? ["SIGTERM", "SIGINT"]) {
      this.#source.on(signal, this.#listener);
      this.#signals.push(signal);
    }
  }

  /** True once a shutdown began. */
  get isShutdownRequested(): boolean {
    return this.#requested;
  }

  /** Resolves when a shutdown has finished. */
  get shutdownComplete(): Promise<void> {
    return this.#done ??= new Promise<void>((resolve) => this.#resolveDone = resolve);
  }

  /**
   * Shuts down now: `onShutdown`, cancel and dispose the scope (up to
   * `timeout`), `onComplete`, then exit if `exit` is on. A second call
   * returns the first one's completion.
   */
  shutdown(signal = "SIGTERM"): Promise<void> {
    if (this.#requested) return this.shutdownComplete;
    this.#requested = true;
    const done = this.shutdownComplete;
    void this.#run(signal);
    return done;
  }

  /** Removes the signal listeners. Idempotent. */
  cleanup(): void {
    const source = this.#source;
    if (source !== undefined) {
      for (const signal of this.#signals) source.off(signal, this.#listener);
    }
    this.#signals = [];
    this.#scope[DETACH](this);
  }

  /** @internal The scope aborted: no more signals for it. */
  [ABORT](): void {
    this.cleanup();
  }

  async #run(signal: string): Promise<void> {
    const o = this.#options;
    const log = this.#scope.logger;
    const start = performance.now();
    const timeout = o.timeout ?? 30_000;
    this.cleanup();
    if (o.onShutdown !== undefined) {
      try {
        await o.onShutdown(signal);
      } catch (error) {
        log.error({ err: error, scope: this.#scope.name }, "onShutdown threw");
      }
    }
    this.#scope.cancel(new Error(`Shutdown requested: ${signal}`));
    let timer: Timer | undefined;
    let timedOut = false;
    const left = Math.max(0, timeout - (performance.now() - start));
    await Promise.race([
      this.#scope[Symbol.asyncDispose]().catch((error) => {
        log.error({ err: error, scope: this.#scope.name }, "scope disposal failed during shutdown");
      }),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          timedOut = true;
          resolve();
        }, left);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) log.error({ scope: this.#scope.name, timeout }, "graceful shutdown timed out");
    if (o.onComplete !== undefined) {
      try {
        await o.onComplete();
      } catch (error) {
        log.error({ err: error, scope: this.#scope.name }, "onComplete threw");
      }
    }
    this.#resolveDone?.();
    if (o.exit !== false) {
      const code = timedOut ? o.timeoutExitCode ?? 1 : o.successExitCode ?? 0;
      (globalThis as { process?: Proc }).process?.exit?.(code);
    }
  }
}

function validate(options: GracefulShutdownOptions): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    fail(WHAT, "gracefulShutdown", "an object", options, false);
  }
  assertKnownKeys(WHAT, options, KNOWN);
  const {
    signals,
    timeout,
    onShutdown,
    onComplete,
    exit,
    successExitCode,
    timeoutExitCode,
    signalSource,
  } = options;
  if (
    signals !== undefined && (!Array.isArray(signals) || signals.some((s) => typeof s !== "string"))
  ) {
    fail(WHAT, "signals", "an array of signal names", signals, false);
  }
  if (timeout !== undefined) assertMs(WHAT, "timeout", timeout, true);
  if (onShutdown !== undefined) assertFunction(WHAT, "onShutdown", onShutdown);
  if (onComplete !== undefined) assertFunction(WHAT, "onComplete", onComplete);
  if (exit !== undefined && typeof exit !== "boolean") fail(WHAT, "exit", "a boolean", exit, false);
  if (successExitCode !== undefined) assertInteger(WHAT, "successExitCode", successExitCode, 0);
  if (timeoutExitCode !== undefined) assertInteger(WHAT, "timeoutExitCode", timeoutExitCode, 0);
  if (
    signalSource !== undefined &&
    (typeof signalSource !== "object" || signalSource === null ||
      typeof signalSource.on !== "function" || typeof signalSource.off !== "function")
  ) fail(WHAT, "signalSource", "an object with on and off methods", signalSource, false);
}

const controllers = new WeakMap<ScopeLike, GracefulShutdownController>();

/** Sets up the `gracefulShutdown` option's controller. */
export function shutdownScope(s: ScopeLike, options: unknown): void {
  controllers.set(s, new GracefulShutdownController(s, options as GracefulShutdownOptions));
}

/** `scope.isShutdownRequested`. */
export function isShutdownRequested(s: ScopeLike): boolean {
  return controllers.get(s)?.isShutdownRequested ?? false;
}

/** `scope.shutdownController`. */
export function shutdownControllerOf(s: ScopeLike): GracefulShutdownController | undefined {
  return controllers.get(s);
}
