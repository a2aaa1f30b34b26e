/**
 * `poll(fn, onValue, options)` and `scope.poll(...)`: call a function at a
 * fixed interval and hand each value to a callback, with a controller to
 * start, stop and inspect it.
 *
 * @module
 */
import { onAbort } from "../base/cancellation.ts";
import { isAbortError } from "../base/errors.ts";
import type { Task } from "../kernel/task.ts";
import { defaultLogger, type Logger, type Result, type TaskFn } from "../base/types.ts";
import type { Timer } from "../base/_symbols.ts";
import {
  assertFunction,
  assertKnownKeys,
  assertMs,
  assertObject,
  describe,
  fail,
  typeError,
} from "../base/_validate.ts";

/**
 * Options of {@linkcode poll} and `scope.poll()`.
 *
 * @example
 * ```ts
 * import { poll, type PollOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: PollOptions = { interval: 1000, immediate: false };
 * using poller = poll(() => Date.now(), console.log, options);
 * console.log(poller.status().running); // false: not started yet
 * ```
 */
export interface PollOptions {
  /** Milliseconds between the end of one poll and the start of the next. @default 5000 */
  interval?: number;
  /** Stops polling for good when it aborts; passed to `fn` (with the scope's, for `scope.poll`). */
  signal?: AbortSignal;
  /**
   * Start at once and poll immediately; with `false`, nothing happens until
   * `start()`, and the first poll comes one interval after it. @default true
   */
  immediate?: boolean;
  /**
   * Called with each error of `fn` or `onValue` (polling goes on).
   * @default logs through the scope's logger (`scope.poll`) or the console (`poll`)
   */
  onError?: (error: unknown) => void;
}

/** What `controller.status()` reports. */
export interface PollStatus {
  /** Between `start()` and `stop()` (or the end of the signal or scope). */
  running: boolean;
  /** How many polls have started. */
  pollCount: number;
  /** Milliseconds until the next poll; 0 while one is in flight or when stopped. */
  timeUntilNext: number;
  /** `performance.now()` when the last poll started. */
  lastPollTime?: number;
  /** `performance.now()` when the next poll is due. */
  nextPollTime?: number;
}

/** Controls a poll: `start()`, `stop()`, `status()`; `using` disposes it for good. */
export interface PollController extends Disposable {
  /** Starts or resumes polling; does nothing while running or once disposed. */
  start(): void;
  /** Stops polling (a poll in flight finishes, its value is dropped); `start()` resumes. */
  stop(): void;
  /** The current state. */
  status(): PollStatus;
}

/** What a polled function receives. */
export interface PollContext {
  /** Aborts when the poll's signal (or, for `scope.poll`, its scope) aborts. */
  readonly signal: AbortSignal;
}

/** What `scope.poll` needs from its scope (a structural view of `Scope`). */
export interface PollOwner {
  readonly name: string;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  task<T>(fn: TaskFn<T>, options?: { signal?: AbortSignal }): Task<T>;
}

const WHAT = "Cannot poll";
const KNOWN = ["interval", "signal", "immediate", "onError"] as const;

function neverAborted(): AbortSignal {
  return new AbortController().signal;
}

class Poller<T> implements PollController {
  readonly #fn: (ctx: PollContext) => T | PromiseLike<T>;
  readonly #onValue: (value: T) => unknown;
  readonly #interval: number;
  readonly #immediate: boolean;
  readonly #owner: PollOwner | undefined;
  readonly #signal: AbortSignal | undefined;
  readonly #onError: ((error: unknown) => void) | undefined;
  #watches: Disposable[] = [];
  #running = false;
  #ended = false;
  #run = 0;
  #count = 0;
  #timer: Timer | undefined;
  #last: number | undefined;
  #next: number | undefined;
  #never: AbortSignal | undefined;

  constructor(
    fn: (ctx: PollContext) => T | PromiseLike<T>,
    onValue: (value: T) => unknown,
    options: PollOptions | undefined,
    owner: PollOwner | undefined,
  ) {
    this.#fn = fn;
    this.#onValue = onValue;
    this.#interval = options?.interval ?? 5000;
    this.#immediate = options?.immediate ?? true;
    this.#owner = owner;
    this.#signal = options?.signal;
    this.#onError = options?.onError;
    const end = (): void => this[Symbol.dispose]();
    if (owner !== undefined) this.#watches.push(onAbort(owner.signal, end));
    if (this.#signal !== undefined && !this.#ended) this.#watches.push(onAbort(this.#signal, end));
    if (this.#immediate) this.start();
  }

  start(): void {
    if (this.#running || this.#ended) return;
    this.#running = true;
    const run = ++this.#run;
    if (this.#immediate) this.#poll(run);
    else this.#schedule(run);
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#run++;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#next = undefined;
  }

  status(): PollStatus {
    const next = this.#next;
    const status: PollStatus = {
      running: this.#running,
      pollCount: this.#count,
      timeUntilNext: next === undefined ? 0 : Math.max(0, next - performance.now()),
    };
    if (this.#last !== undefined) status.lastPollTime = this.#last;
    if (next !== undefined) status.nextPollTime = next;
    return status;
  }

  /** Stops for good and removes the listeners on the signal and the scope. */
  [Symbol.dispose](): void {
    this.stop();
    this.#ended = true;
    for (const watch of this.#watches) watch[Symbol.dispose]();
    this.#watches = [];
  }

  #schedule(run: number): void {
    this.#next = performance.now() + this.#interval;
    this.#timer = setTimeout(() => this.#poll(run), this.#interval);
  }

  async #poll(run: number): Promise<void> {
    this.#timer = undefined;
    this.#next = undefined;
    this.#count++;
    this.#last = performance.now();
    const [err, value] = await this.#call();
    if (run !== this.#run) return; // stopped (or restarted) meanwhile: the value is stale
    if (err !== undefined) this.#report(err);
    else {
      try {
        await this.#onValue(value as T);
      } catch (error) {
        this.#report(error);
      }
    }
    if (run === this.#run) this.#schedule(run);
  }

  async #call(): Promise<Result<unknown, T>> {
    const owner = this.#owner;
    if (owner !== undefined) {
      const signal = this.#signal;
      return owner.task(this.#fn, signal === undefined ? undefined : { signal });
    }
    try {
      return [
        undefined,
        await this.#fn({ signal: this.#signal ?? (this.#never ??= neverAborted()) }),
      ];
    } catch (error) {
      return [error, undefined];
    }
  }

  #report(error: unknown): void {
    if (this.#ended && isAbortError(error)) return; // cancelled with its signal or scope
    if (this.#onError !== undefined) return this.#onError(error);
    const owner = this.#owner;
    if (owner !== undefined) {
      owner.logger.error(
        { err: error, scope: owner.name },
        "poll(): a poll failed; polling goes on",
      );
    } else defaultLogger.error({ err: error }, "poll(): a poll failed; polling goes on");
  }
}

function check(fn: unknown, onValue: unknown, options: PollOptions | undefined): void {
  assertFunction(WHAT, "fn", fn);
  assertFunction(WHAT, "onValue", onValue);
  if (options === undefined) return;
  assertObject(WHAT, "options", options);
  assertKnownKeys(WHAT, options, KNOWN);
  const { interval, signal, immediate, onError } = options;
  if (interval !== undefined) assertMs(WHAT, "interval", interval);
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw typeError(`${WHAT}: "signal" must be an AbortSignal, received ${describe(signal)}`);
  }
  if (immediate !== undefined && typeof immediate !== "boolean") {
    fail(WHAT, "immediate", "a boolean", immediate, false);
  }
  if (onError !== undefined) assertFunction(WHAT, "onError", onError);
}

/**
 * Calls `fn({ signal })` now (unless `immediate: false`) and then `interval`
 * ms after each call ends, passing each value to `onValue`. A failure of
 * either is reported (see `onError`) and polling goes on. It stops with
 * `stop()`, for good when `options.signal` aborts or the controller is
 * disposed.
 *
 * @typeParam T The value `fn` produces.
 * @param fn The polled function, sync or async.
 * @param onValue Receives each value; may be async (the next poll waits for it).
 * @param options `interval`, `immediate`, `signal`, `onError`.
 * @returns The controller.
 * @throws {TypeError | RangeError} When an argument or option is invalid.
 * @throws {unknown} `options.signal.reason` when the signal has already aborted.
 *
 * @example
 * ```ts
 * import { poll } from "@go-go-scope/adapter-fastify/core";
 *
 * let n = 0;
 * const seen: number[] = [];
 * const controller = new AbortController();
 * poll(() => ++n, (value) => {
 *   seen.push(value);
 *   if (value === 3) controller.abort();
 * }, { interval: 5, signal: controller.signal });
 * await new Promise((resolve) => setTimeout(resolve, 50));
 * console.log(seen); // [ 1, 2, 3 ]
 * ```
 */
export function poll<T>(
  fn: (ctx: PollContext) => T | PromiseLike<T>,
  onValue: (value: T) => unknown,
  options?: PollOptions,
): PollController {
  check(fn, onValue, options);
  if (options?.signal?.aborted) throw options.signal.reason;
  return new Poller(fn, onValue, options, undefined);
}

/** `scope.poll()` (internal: see `Scope.poll`): each call of `fn` is a task of the scope. */
export function pollIn<T>(
  owner: PollOwner,
  fn: TaskFn<T>,
  onValue: (value: T) => unknown,
  options?: PollOptions,
): PollController {
  check(fn, onValue, options);
  if (owner.signal.aborted) throw owner.signal.reason;
  if (options?.signal?.aborted) throw options.signal.reason;
  return new Poller(fn as (ctx: PollContext) => T | PromiseLike<T>, onValue, options, owner);
}
