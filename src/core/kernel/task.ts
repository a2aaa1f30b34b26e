/**
 * A task: a unit of work owned by a scope, started at once, resolving to a
 * Result tuple and never rejecting.
 *
 * @module
 */
import { acquire, type CircuitBreaker, release } from "../resilience/circuit_breaker.ts";
import { isFinal, retryDelay, shouldRetry } from "../resilience/retry.ts";
import { AbortError, reasonToError, TimeoutError, toError, toTaskError } from "../base/errors.ts";
import type { Result, TaskFn } from "../base/types.ts";
import {
  ABORT,
  type Abortable,
  ACQUIRE_SLOT,
  ATTACH,
  DETACH,
  PRIORITY,
  RELEASE_SLOT,
  START,
} from "../base/_symbols.ts";
import { assertFunction } from "../base/_validate.ts";
import { limits, startDeadline } from "./_deadline.ts";
import type { TaskOwner } from "./_owner.ts";
import { abortError, endShared, type Shared, startShared, thrownError } from "./task_extras.ts";
import { parseTaskOptions, type TaskOptions } from "./task_options.ts";
import { Context } from "./task_context.ts";
import { endProbe, INSTRUMENT, probed } from "./_instrument.ts"; // [instrument]
import { releaseRare, TaskRare } from "./_task_rare.ts";

const WHAT = "Cannot create task";
let nextId = 0;
let captured: ((value: never) => void) | undefined;

/** The executor of every Task: hands the resolve function to the constructor without a closure. */
function capture(resolve: (value: never) => void): void {
  captured = resolve;
}

function onTimeout(task: Abortable & { readonly name: string }, ms: number): void {
  task[ABORT](new TimeoutError(`Task "${task.name}" exceeded its timeout of ${ms} ms`, ms));
}

function wake(resolve: () => void): void {
  resolve();
}

/** A wait between retries longer than a timer takes: re-armed in chunks until `at`. */
function sleepUntil(rare: TaskRare, at: number): void {
  const left = at - performance.now();
  rare.sleepTimer = left <= limits.maxDelay
    ? setTimeout(wake, Math.max(0, left), rare.wake!)
    : setTimeout(() => sleepUntil(rare, at), limits.maxDelay);
}

/**
 * A running unit of work. Await it (as many times as you like) for its
 * {@linkcode Result}; it never rejects. Created by `scope.task()`.
 *
 * @typeParam T The value the task function produces.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const t = s.task(async ({ signal }) => {
 *   await new Promise((r) => setTimeout(r, 1000));
 *   signal.throwIfAborted();
 *   return "late";
 * });
 * t.cancel("not needed");
 * const [err] = await t;
 * console.log(err?.message, t.isSettled); // The operation was aborted: not needed true
 * ```
 */
export class Task<T, E extends Error = Error> extends Promise<Result<E, T>> implements Disposable {
  /** A process-unique id. */
  readonly id: number;
  readonly #owner: TaskOwner;
  #fn: TaskFn<T>;
  #name: string | undefined;
  #result: Result<E, T> | undefined;
  readonly #resolve: (result: Result<E, T>) => void;
  #controller: AbortController | undefined;
  #breaker: CircuitBreaker | undefined;
  #holdsSlot = false;
  /** Options, retries, a breaker call, an instrument, an abort: allocated on first need. */
  #rare: TaskRare | undefined;

  /** @internal Use `scope.task()`. */
  constructor(owner: TaskOwner, fn: TaskFn<T>, options?: TaskOptions<E>) {
    assertFunction(WHAT, "fn", fn);
    super(capture);
    this.#resolve = captured as (result: Result<E, T>) => void;
    captured = undefined;
    this.id = ++nextId;
    this.#owner = owner;
    this.#fn = fn;
    this.#breaker = owner.circuitBreaker;
    // Options are parsed out of line: the constructor stays small on the hot path.
    const timeout = options === undefined ? undefined : this.#parse(options);
    if (owner.isAborted) {
      this.#abort(owner.abortReason);
      return;
    }
    const rare = this.#rare;
    // Kept out of line: the constructor stays small (and inlinable) on the hot path.
    const leader = rare === undefined ? undefined : this.#withOptions(owner, rare, timeout);
    if (leader === true) return;
    owner[ATTACH](this);
    if (leader !== undefined) {
      this.#follow(leader);
      return;
    }
    // [instrument] The scope's instrumentation hook: one field read when absent.
    const probe = owner[INSTRUMENT]?.start(this, owner, fn, options);
    if (probe !== undefined) {
      this.#fn = probed(this.#fn, (this.#rare ??= new TaskRare()).probe = probe);
    }
    if (owner[ACQUIRE_SLOT](this)) {
      this.#holdsSlot = true;
      this.#run();
    }
  }

  /**
   * The options that act before the task is attached: memo and dedupe, then
   * `signal`; it starts the `timeout` deadline. Returns `true` when the task
   * already settled (from the memo store, or an aborted signal), the task to
   * follow when another one runs under the dedupe key, else `undefined`
   * (this task runs, as the key's leader if it has one).
   */
  #withOptions(
    owner: TaskOwner,
    rare: TaskRare,
    timeout: number | undefined,
  ): Shared | true | undefined {
    let leader: Shared | undefined;
    if (rare.extras !== undefined) {
      const shared = startShared(owner, rare.extras, this as Shared);
      if (shared !== undefined && !("isSettled" in shared)) {
        this.#adopt(shared);
        return true;
      }
      leader = shared;
    }
    const signal = rare.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.#abort(signal.reason);
        return true;
      }
      signal.addEventListener("abort", this);
    }
    if (timeout !== undefined) {
      rare.deadline = startDeadline(timeout, onTimeout, this as unknown as Task<unknown>);
    }
    return leader;
  }

  /** A follower holds no concurrency slot: it only waits for the leader's Result. */
  #follow(leader: Shared): void {
    leader.then((result) => this.#adopt(result));
  }

  /** Validates the options, applies them, and returns the timeout. */
  #parse(options: TaskOptions): number | undefined {
    const settings = parseTaskOptions(options, this.#fn, this.#owner);
    this.#name = settings.name;
    this.#breaker = settings.breaker;
    this.#fn = settings.fn;
    const { policy, signal, extras, timeout } = settings;
    if (
      policy !== undefined || signal !== undefined || extras !== undefined || timeout !== undefined
    ) {
      const rare = this.#rare = new TaskRare();
      rare.policy = policy;
      rare.signal = signal;
      rare.extras = extras;
    }
    return timeout;
  }

  /** The task's name, `task-<id>` unless one was given. */
  get name(): string {
    return this.#name ??= `task-${this.id}`;
  }

  /** True once the Result is known. */
  get isSettled(): boolean {
    return this.#result !== undefined;
  }

  /**
   * The task's own signal. It aborts when the task is cancelled, times out,
   * or its scope aborts. Created on first read.
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const rare = this.#rare;
      if (rare !== undefined && rare.aborted) this.#controller.abort(rare.abortReason);
    }
    return this.#controller.signal;
  }

  /**
   * Cancels the task: its signal aborts with `reason` and it resolves to
   * `[error, undefined]` at once. Does nothing once settled.
   *
   * @param reason The abort reason. @default an `AbortError` "task cancelled"
   */
  cancel(reason?: unknown): void {
    this[ABORT](
      reason === undefined ? new AbortError(`Task "${this.name}" was cancelled`) : reason,
    );
  }

  /**
   * For `using t = scope.task(...)`: cancels the task if it has not settled
   * when the block ends. Idempotent.
   */
  [Symbol.dispose](): void {
    if (this.#result === undefined) {
      this.cancel(new AbortError(`Task "${this.name}" was disposed before it settled`));
    }
  }

  /** @internal The priority it waits with for a concurrency slot. */
  get [PRIORITY](): number {
    const extras = this.#rare?.extras;
    return extras === undefined ? 0 : extras.priority;
  }

  /** @internal The scope, a timeout or an extra signal aborted this task. */
  [ABORT](reason: unknown): void {
    if (this.#result === undefined) this.#abort(reason);
  }

  #abort(reason: unknown): void {
    const rare = this.#rare ??= new TaskRare();
    rare.aborted = true;
    rare.abortReason = reason;
    this.#controller?.abort(reason);
    const extras = rare.extras;
    this.#finish(extras === undefined ? reasonToError(reason) : abortError(extras, reason), true);
  }

  /** @internal An extra `signal` aborted. */
  handleEvent(): void {
    this[ABORT](this.#rare?.signal?.reason);
  }

  /** @internal A concurrency slot became free. */
  [START](): void {
    this.#holdsSlot = true;
    if (this.#owner.isAborted) this[ABORT](this.#owner.abortReason);
    else this.#run();
  }

  #run(): void {
    if (this.#breaker !== undefined || this.#rare?.policy !== undefined) {
      void this.#attempts();
      return;
    }
    // One attempt, no breaker: no async function, no extra promise.
    let value: T | PromiseLike<T>;
    try {
      value = this.#fn(new Context(this, this.#owner));
      if (isThenable(value)) return this.#settleWith(value);
    } catch (thrown) {
      this.#fail(thrown);
      return;
    }
    this.#finish(value, false);
  }

  /** Settles as `value` does; out of #run, whose every call its closures would give a context. */
  #settleWith(value: PromiseLike<T>): void {
    value.then(
      (v) => this.#finish(v, false),
      (thrown) => this.#fail(thrown),
    );
  }

  /** The general path: retries and the circuit breaker. */
  async #attempts(): Promise<void> {
    // Retries and breaker calls keep their state in the rare record.
    const rare = this.#rare ??= new TaskRare();
    const policy = rare.policy;
    const breaker = this.#breaker;
    let attempt = 0;
    let ctx: Context | undefined;
    for (;;) {
      try {
        if (breaker !== undefined) {
          rare.trial = acquire(breaker, this.#owner.logger);
          rare.inBreaker = breaker;
        }
        let value = this.#fn(ctx ??= new Context(this, this.#owner));
        if (isThenable(value)) value = await value;
        if (rare.inBreaker !== undefined) {
          rare.inBreaker = undefined;
          release(breaker!, undefined, true, rare.trial, this.#owner.logger);
        }
        this.#finish(value as T, false);
        return;
      } catch (thrown) {
        if (rare.inBreaker !== undefined) {
          rare.inBreaker = undefined;
          release(breaker!, thrown, false, rare.trial, this.#owner.logger);
        }
        if (this.#result !== undefined) return;
        const error = toError(thrown);
        if (
          policy === undefined || attempt >= policy.max || isFinal(error) ||
          !shouldRetry(policy, error, this.#owner.logger, this)
        ) {
          this.#fail(thrown);
          return;
        }
        attempt++;
        const ms = retryDelay(policy, attempt, error, this.#owner.logger, this);
        if (typeof ms !== "number") {
          return ms instanceof RangeError ? this.#finish(ms, true) : this.#fail(ms.thrown);
        }
        rare.probe?.retry(attempt, error, ms); // [instrument]
        if (ms > 0) await new Promise<void>((resolve) => this.#sleep(rare, resolve, ms));
        if (this.#result !== undefined) return;
      }
    }
  }

  #sleep(rare: TaskRare, resolve: () => void, ms: number): void {
    if (this.#result !== undefined) return resolve();
    rare.wake = resolve;
    if (ms <= limits.maxDelay) rare.sleepTimer = setTimeout(wake, ms, resolve);
    else sleepUntil(rare, performance.now() + ms);
  }

  /** Fails with what the function threw, wrapped as the options say. */
  #fail(thrown: unknown): void {
    const extras = this.#rare?.extras;
    this.#finish(extras === undefined ? toTaskError(thrown) : thrownError(extras, thrown), true);
  }

  #finish(outcome: unknown, failed: boolean): void {
    if (this.#result !== undefined) return;
    if (failed) {
      this.#result = [outcome as E, undefined];
    } else {
      this.#result = [undefined, outcome as T];
    }
    this.#cleanup();
    const rare = this.#rare;
    if (rare !== undefined) {
      const probe = rare.probe; // [instrument]
      if (probe !== undefined) endProbe(probe, failed, outcome, rare.aborted, rare.abortReason);
      if (rare.extras !== undefined) {
        endShared(this.#owner, rare.extras, this as Shared, this.#result);
      }
    }
    this.#resolve(this.#result);
  }

  /** Settles with another task's Result (a dedupe leader's or a memoized one). */
  #adopt(result: Result<Error, unknown>): void {
    if (this.#result !== undefined) return;
    this.#result = result as Result<E, T>;
    this.#cleanup();
    this.#resolve(this.#result);
  }

  #cleanup(): void {
    const rare = this.#rare;
    if (rare !== undefined) releaseRare(rare, this, this.#owner.logger);
    this.#owner[DETACH](this);
    if (this.#holdsSlot) {
      this.#holdsSlot = false;
      this.#owner[RELEASE_SLOT]();
    }
  }
}

// A Task is a native promise (so `await task` takes V8's fast path instead of
// the slower thenable job) whose `constructor` reads as `Promise`: `await`,
// `Promise.resolve(task)` and `task.then()` then treat it as a plain promise
// (per the spec's PromiseResolve and SpeciesConstructor), and `then()` never
// calls Task's constructor with an executor.
Object.defineProperty(Task.prototype, "constructor", {
  value: Promise,
  writable: true,
  configurable: true,
});

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === "object" || typeof value === "function") &&
    typeof (value as PromiseLike<unknown>).then === "function";
}
