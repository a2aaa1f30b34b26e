/**
 * The scope: a node in a tree of cancellable work. Tasks, channels and child
 * scopes belong to it; aborting it aborts them; disposing it waits for them and
 * runs its cleanups.
 *
 * @module
 */
import { Channel, type ChannelOptions } from "./channel.ts";
import type { CircuitBreaker, CircuitBreakerOptions } from "./circuit_breaker.ts";
import { AbortError, TimeoutError } from "./errors.ts";
import {
  any,
  type Factory,
  parallel,
  type ParallelOptions,
  race,
  type RaceOptions,
  type Values,
} from "./parallel.ts";
import { Task, type TaskOptions } from "./task.ts";
import { type Deadline, startDeadline } from "./_deadline.ts";
import { defaultLogger, type Logger, type Result, type TaskFn } from "./types.ts";
import {
  ABORT,
  type Abortable,
  ACQUIRE_SLOT,
  ATTACH,
  CHILD,
  type ChildSettings,
  DETACH,
  DISPOSE,
  RELEASE_SLOT,
  SET_OWNER,
  START,
  type Startable,
} from "./_internal.ts";
import {
  assertFunction,
  assertInstance,
  assertInteger,
  assertKnownKeys,
  assertMs,
  assertObject,
  assertString,
  fail,
  toBreaker,
} from "./_validate.ts";

/**
 * Options of {@linkcode scope} and `scope.createChild()`.
 *
 * @example
 * ```ts
 * import { scope, type ScopeOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: ScopeOptions = { name: "job", timeout: 5000, concurrency: 2 };
 * await using s = scope(options);
 * console.log(s.name); // job
 * ```
 */
export interface ScopeOptions {
  /** For logs and errors. @default `scope-<n>` */
  name?: string;
  /** The parent: this scope aborts when it aborts, and it disposes this scope. */
  parent?: Scope;
  /** An external signal; aborting it aborts the scope. */
  signal?: AbortSignal;
  /** Milliseconds until the scope aborts with a `TimeoutError`. No timer without it. */
  timeout?: number;
  /** At most this many of the scope's tasks run at once; the rest wait in order. */
  concurrency?: number;
  /**
   * A breaker shared with every task of this scope and of its children (an
   * instance), options for a new one, or `false` for none (not even the
   * parent's). @default the parent's breaker
   */
  circuitBreaker?: CircuitBreaker | CircuitBreakerOptions | false;
  /** Values merged over the parent's context and passed to every task. */
  context?: Record<string, unknown>;
  /** A pino-compatible logger. @default the parent's, or a console logger for warnings and errors */
  logger?: Logger;

  // ---- parity 1 options (scope-core) ----

  // ---- parity 2 options (primitives) ----

  // ---- persistence options (providers, redis) ----
}

const KNOWN = [
  "name",
  "parent",
  "signal",
  "timeout",
  "concurrency",
  "circuitBreaker",
  "context",
  "logger",
] as const;
const WHAT = "Cannot create scope";
const EMPTY_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});
const DISPOSED: AbortError = new AbortError("Scope disposed");
const RESOLVED: Promise<void> = Promise.resolve();
let nextId = 0;

function onScopeTimeout(s: Scope, ms: number): void {
  s.cancel(new TimeoutError(`Scope "${s.name}" timed out after ${ms} ms`, ms));
}

/**
 * A scope of structured concurrency. Create one with {@linkcode scope}.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope({ name: "demo", timeout: 1000 });
 * const [err, n] = await s.task(() => 21 * 2);
 * if (!err) console.log(n); // 42
 * ```
 */
export class Scope implements AsyncDisposable {
  readonly #id: number;
  #name: string | undefined;
  #parent: Scope | undefined;
  #context: Readonly<Record<string, unknown>>;
  #logger: Logger;
  #breaker: CircuitBreaker | undefined;
  #limit: number;
  #running = 0;
  #queue: Startable[] | undefined;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #disposing = false;
  #disposal: Promise<void> | undefined;
  // Live children, as an intrusive doubly linked list: O(1) to add and
  // remove, and no allocation per child.
  #firstChild: Scope | undefined;
  #lastChild: Scope | undefined;
  #prevSibling: Scope | undefined;
  #nextSibling: Scope | undefined;
  #childCount = 0;
  #linked = false;
  // Unsettled tasks and open channels: the first in a slot of its own, so a
  // request with one task at a time never allocates a Set.
  #dependent: Abortable | undefined;
  #dependents: Set<Abortable> | undefined;
  #cleanups: (() => unknown)[] | undefined;
  #resources: Map<unknown, unknown> | undefined;
  #deadline: Deadline<Scope> | undefined;
  #external: AbortSignal | undefined;

  /** @internal Use {@linkcode scope}. */
  constructor(options?: ScopeOptions) {
    this.#id = ++nextId;
    if (options === undefined) {
      this.#context = EMPTY_CONTEXT;
      this.#logger = defaultLogger;
      this.#limit = Infinity;
      return;
    }
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    const { name, parent, signal, timeout, concurrency, circuitBreaker, context, logger } = options;
    if (name !== undefined) assertString(WHAT, "name", name);
    if (parent !== undefined) assertInstance(WHAT, "parent", parent, Scope, "a Scope");
    if (signal !== undefined) {
      assertInstance<AbortSignal>(WHAT, "signal", signal, AbortSignal, "an AbortSignal");
    }
    if (timeout !== undefined) assertMs(WHAT, "timeout", timeout);
    if (concurrency !== undefined) assertInteger(WHAT, "concurrency", concurrency, 1);
    let breaker = parent === undefined ? undefined : parent.#breaker;
    if (circuitBreaker !== undefined) {
      const given = toBreaker(WHAT, "circuitBreaker", circuitBreaker, {
        orOptions: true,
        orFalse: true,
      });
      breaker = given === false ? undefined : given;
    }
    if (context !== undefined) assertObject(WHAT, "context", context);
    if (logger !== undefined) assertLogger(logger);

    this.#name = name;
    this.#breaker = breaker;
    this.#limit = concurrency ?? Infinity;
    const inherited = parent === undefined ? EMPTY_CONTEXT : parent.#context;
    this.#context = context === undefined ? inherited : { ...inherited, ...context };
    this.#logger = logger ?? (parent === undefined ? defaultLogger : parent.#logger);
    if (parent !== undefined) this.#link(parent);
    if (signal !== undefined && !this.#aborted) {
      if (signal.aborted) this.#abortWith(signal.reason);
      else {
        this.#external = signal;
        signal.addEventListener("abort", this);
      }
    }
    if (timeout !== undefined) this.#startTimer(timeout);
  }

  /** @internal The plugin's door (see `_child_scope.ts`): a child from validated settings. */
  static [CHILD](parent: Scope, settings: ChildSettings): Scope {
    const s = new Scope();
    s.#name = settings.name;
    s.#logger = settings.logger;
    const context = settings.context;
    s.#context = parent.#context === EMPTY_CONTEXT ? context : { ...parent.#context, ...context };
    const breaker = settings.circuitBreaker;
    s.#breaker = breaker === undefined ? parent.#breaker : breaker || undefined;
    if (settings.concurrency !== undefined) s.#limit = settings.concurrency;
    s.#link(parent);
    if (settings.timeout !== undefined) s.#startTimer(settings.timeout);
    return s;
  }

  /** @internal Disposes; `undefined` when disposal finished synchronously (nothing to await). */
  [DISPOSE](): Promise<void> | undefined {
    const disposal = this[Symbol.asyncDispose]();
    return disposal === RESOLVED ? undefined : disposal;
  }

  #link(parent: Scope): void {
    this.#parent = parent;
    if (parent.#aborted) {
      this.#abortWith(parent.#reason);
      return;
    }
    const last = parent.#lastChild;
    this.#prevSibling = last;
    if (last === undefined) parent.#firstChild = this;
    else last.#nextSibling = this;
    parent.#lastChild = this;
    parent.#childCount++;
    this.#linked = true;
  }

  #unlink(): void {
    if (!this.#linked) return;
    this.#linked = false;
    const parent = this.#parent!;
    const prev = this.#prevSibling;
    const next = this.#nextSibling;
    if (prev === undefined) parent.#firstChild = next;
    else prev.#nextSibling = next;
    if (next === undefined) parent.#lastChild = prev;
    else next.#prevSibling = prev;
    this.#prevSibling = undefined;
    parent.#childCount--;
  }

  #startTimer(timeout: number): void {
    if (this.#aborted) return;
    // Cancelled when the scope aborts or is disposed.
    this.#deadline = startDeadline<Scope>(timeout, onScopeTimeout, this);
  }

  /** The scope's name: the `name` option, or `scope-<n>`. */
  get name(): string {
    return this.#name ??= `scope-${this.#id}`;
  }

  /** The parent scope, if any. */
  get parent(): Scope | undefined {
    return this.#parent;
  }

  /** The context record passed to every task (merged over the parent's). */
  get context(): Readonly<Record<string, unknown>> {
    return this.#context;
  }

  /** The scope's logger. */
  get logger(): Logger {
    return this.#logger;
  }

  /** The breaker the scope's tasks go through, if any. */
  get circuitBreaker(): CircuitBreaker | undefined {
    return this.#breaker;
  }

  /** Aborts when the scope is cancelled, times out, disposed, or its parent aborts. Created on first read. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** True once the scope was cancelled, timed out or disposed. */
  get isAborted(): boolean {
    return this.#aborted;
  }

  /** Why the scope aborted (`undefined` while it has not). */
  get abortReason(): unknown {
    return this.#reason;
  }

  /** True once disposal has begun. */
  get isDisposed(): boolean {
    return this.#disposing;
  }

  /** How many child scopes are alive (created and not yet disposed). */
  get childCount(): number {
    return this.#childCount;
  }

  /** How many of the scope's tasks have not settled yet (running or queued). */
  get taskCount(): number {
    let n = 0;
    if (this.#dependent instanceof Task) n++;
    if (this.#dependents) { for (const d of this.#dependents) if (d instanceof Task) n++; }
    return n;
  }

  /**
   * Starts a task at once and returns it; await it for `[err, value]`.
   * On an aborted or disposed scope the function is not called and the task
   * resolves to a failure carrying the scope's abort reason.
   *
   * @typeParam T The value `fn` produces.
   * @param fn Receives `{ signal, context, logger }`.
   * @param options `timeout`, `retry`, `circuitBreaker`, `signal`, `name`.
   * @returns The task (a PromiseLike that never rejects).
   * @throws {TypeError | RangeError} When `fn` is not a function or an option is invalid.
   */
  task<T>(fn: TaskFn<T>, options?: TaskOptions): Task<T> {
    return new Task(this, fn, options);
  }

  /**
   * Runs factories as tasks of this scope and never fails: each slot of the
   * values holds that factory's own Result.
   *
   * @param factories Task functions.
   * @param options `continueOnError: true`, and optionally `concurrency`, `timeout`.
   */
  parallel<const F extends readonly TaskFn<unknown>[]>(
    factories: F,
    options: ParallelOptions & { continueOnError: true },
  ): Promise<Result<Error, { -readonly [K in keyof F]: Result<Error, Awaited<ReturnType<F[K]>>> }>>;
  /**
   * Runs factories as tasks of this scope. Resolves `[undefined, values]` in
   * input order, or fails fast with the first error after cancelling the
   * siblings still running.
   *
   * @param factories Task functions.
   * @param options `concurrency`, `continueOnError`, `timeout`.
   */
  parallel<const F extends readonly TaskFn<unknown>[]>(
    factories: F,
    options?: ParallelOptions,
  ): Promise<Result<Error, Values<F>>>;
  parallel(
    factories: readonly Factory[],
    options?: ParallelOptions,
  ): Promise<Result<Error, unknown[]>> {
    return parallel(this, factories, options);
  }

  /**
   * Runs factories as tasks; the first to settle (success or failure) decides
   * and the others are cancelled.
   */
  race<T>(factories: readonly TaskFn<T>[], options?: RaceOptions): Promise<Result<Error, T>> {
    return race(this, factories, options);
  }

  /**
   * Runs factories as tasks; the first success wins and the others are
   * cancelled. If all fail, the error is an `AggregateError` of every failure.
   */
  any<T>(factories: readonly TaskFn<T>[], options?: RaceOptions): Promise<Result<Error, T>> {
    return any(this, factories, options);
  }

  /**
   * Creates a channel owned by this scope: it closes when the scope aborts.
   *
   * @param options `{ buffer, backpressure, onDrop }` or a capacity number.
   */
  channel<T>(options?: ChannelOptions<T> | number): Channel<T> {
    const ch = new Channel<T>(options);
    if (this.#aborted) ch[ABORT](this.#reason);
    else ch[SET_OWNER](this);
    return ch;
  }

  /** Creates a child scope (same as `scope({ ...options, parent: this })`). */
  createChild(options?: Omit<ScopeOptions, "parent">): Scope {
    if (options === undefined) return new Scope({ parent: this });
    assertObject(WHAT, "options", options);
    return new Scope({ ...options, parent: this });
  }

  // ---- parity 1: context and services (scope-core) ----

  // ---- parity 1: cancellation and scheduling (schedule) ----

  // ---- parity 1: channels, broadcast, select (channels) ----

  // ---- parity 2: locks, idempotency, cache, checkpoints (providers) ----

  // ---- parity 2: rate limiting, timing, events, diagnostics (primitives) ----

  /**
   * Registers a cleanup that runs when the scope is disposed, after its tasks
   * settled; cleanups run last registered first, each awaited. On a disposed
   * scope it runs at once (its error is logged).
   */
  onDispose(fn: () => unknown): void {
    assertFunction("Cannot register cleanup", "fn", fn);
    if (this.#disposing) {
      this.#runLate(fn);
      return;
    }
    (this.#cleanups ??= []).push(fn);
  }

  /**
   * Creates a request-scoped resource with `factory`, stores it under `key`
   * for {@linkcode Scope.use} (here and in child scopes), and disposes it
   * with `dispose` when the scope is disposed (last provided, first disposed).
   *
   * @returns The value `factory` returned.
   */
  provide<T>(key: string | symbol, factory: () => T, dispose?: (value: Awaited<T>) => unknown): T {
    if (typeof key !== "string" && typeof key !== "symbol") {
      fail("Cannot provide resource", "key", "a string or symbol", key, false);
    }
    assertFunction("Cannot provide resource", "factory", factory);
    if (dispose !== undefined) assertFunction("Cannot provide resource", "dispose", dispose);
    const value = factory();
    (this.#resources ??= new Map()).set(key, value);
    if (dispose !== undefined) {
      this.onDispose(async () => {
        let resolved: Awaited<T>;
        try {
          resolved = await value;
        } catch {
          return; // the factory's own failure was the caller's to handle
        }
        await dispose(resolved);
      });
    }
    return value;
  }

  /**
   * Returns the resource provided under `key` in this scope or the nearest
   * ancestor.
   *
   * @throws {Error} When no scope in the chain provides `key`.
   */
  use<T = unknown>(key: string | symbol): T {
    if (this.#resources?.has(key)) return this.#resources.get(key) as T;
    for (let s = this.#parent; s !== undefined; s = s.#parent) {
      if (s.#resources?.has(key)) return s.#resources.get(key) as T;
    }
    throw new Error(`Cannot use resource: no scope from "${this.name}" up provides ${String(key)}`);
  }

  /**
   * Aborts the scope without disposing it: its signal, its children's, its
   * tasks' and channels' abort with `reason`. Does nothing if already aborted.
   *
   * @param reason @default an `AbortError` "scope cancelled"
   */
  cancel(reason?: unknown): void {
    if (this.#aborted) return;
    this.#abortWith(
      reason === undefined ? new AbortError(`Scope "${this.name}" was cancelled`) : reason,
    );
  }

  /**
   * Disposes the scope: aborts it (reason: an `AbortError` "Scope disposed")
   * unless already aborted, disposes its children, waits for its tasks, runs
   * cleanups last-first, then detaches from its parent. Idempotent. Rejects
   * with the cleanup's error (or an `AggregateError`) after all cleanups ran.
   */
  [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposal !== undefined) return this.#disposal;
    this.#disposing = true;
    if (!this.#aborted) {
      if (
        this.#controller !== undefined || this.#childCount > 0 || this.#dependent !== undefined ||
        this.#dependents?.size
      ) {
        // Aborting runs listeners, which may call dispose again: the promise
        // they get must exist (and be this one) before the abort.
        let start!: () => void;
        this.#disposal = new Promise<void>((resolve) => start = resolve).then(() => this.#settle());
        this.#abortWith(DISPOSED);
        start();
        return this.#disposal;
      }
      this.#aborted = true;
      this.#reason = DISPOSED;
      if (this.#deadline !== undefined) {
        this.#deadline.cancel();
        this.#deadline = undefined;
      }
    }
    return this.#disposal = this.#settle();
  }

  /** @internal The external signal aborted. */
  handleEvent(): void {
    this.cancel(this.#external?.reason);
  }

  /** @internal */
  [ABORT](reason: unknown): void {
    if (!this.#aborted) this.#abortWith(reason);
  }

  /** @internal */
  [ATTACH](dependent: Abortable): void {
    if (this.#dependent === undefined) this.#dependent = dependent;
    else (this.#dependents ??= new Set()).add(dependent);
  }

  /** @internal */
  [DETACH](dependent: Abortable): void {
    if (this.#dependent === dependent) this.#dependent = undefined;
    else this.#dependents?.delete(dependent);
  }

  /** @internal */
  [ACQUIRE_SLOT](task: Startable): boolean {
    if (this.#running < this.#limit) {
      this.#running++;
      return true;
    }
    (this.#queue ??= []).push(task);
    return false;
  }

  /** @internal */
  [RELEASE_SLOT](): void {
    this.#running--;
    const queue = this.#queue;
    if (queue === undefined) return;
    if (this.#aborted) {
      // Every queued task is being aborted with the scope: none may start.
      queue.length = 0;
      return;
    }
    while (queue.length > 0 && this.#running < this.#limit) {
      const next = queue.shift()!;
      if (next.isSettled) continue;
      this.#running++;
      next[START]();
    }
  }

  #abortWith(reason: unknown): void {
    this.#aborted = true;
    this.#reason = reason;
    if (this.#deadline !== undefined) {
      this.#deadline.cancel();
      this.#deadline = undefined;
    }
    this.#controller?.abort(reason);
    for (let child = this.#firstChild; child !== undefined;) {
      const next = child.#nextSibling;
      child[ABORT](reason);
      child = next;
    }
    this.#dependent?.[ABORT](reason);
    if (this.#dependents !== undefined) {
      for (const dependent of this.#dependents) dependent[ABORT](reason);
    }
  }

  /** Disposal after the abort: children, cleanups, detach. */
  #settle(): Promise<void> {
    if (this.#childCount > 0 || this.#cleanups !== undefined) return this.#disposeSlow();
    this.#detach();
    return RESOLVED;
  }

  async #disposeSlow(): Promise<void> {
    const errors: unknown[] = [];
    if (this.#childCount > 0) {
      const children: Scope[] = [];
      for (let c = this.#firstChild; c !== undefined; c = c.#nextSibling) children.push(c);
      const results = await Promise.allSettled(
        children.map((c) => c[Symbol.asyncDispose]()),
      );
      for (const r of results) if (r.status === "rejected") errors.push(r.reason);
    }
    const cleanups = this.#cleanups;
    if (cleanups !== undefined) {
      this.#cleanups = undefined;
      for (let i = cleanups.length - 1; i >= 0; i--) {
        try {
          await cleanups[i]!();
        } catch (error) {
          errors.push(error);
        }
      }
    }
    this.#detach();
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      throw new AggregateError(errors, `Scope "${this.name}": ${errors.length} cleanups failed`);
    }
  }

  #detach(): void {
    if (this.#external !== undefined) {
      this.#external.removeEventListener("abort", this);
      this.#external = undefined;
    }
    this.#unlink();
  }

  async #runLate(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.#logger.error(
        { err: error, scope: this.name },
        "cleanup registered after disposal threw",
      );
    }
  }
}

function assertLogger(logger: unknown): asserts logger is Logger {
  const l = logger as Partial<Logger> | null;
  if (
    typeof l !== "object" || l === null || typeof l.debug !== "function" ||
    typeof l.info !== "function" ||
    typeof l.warn !== "function" || typeof l.error !== "function"
  ) {
    fail(WHAT, "logger", "an object with debug, info, warn and error methods", logger, false);
  }
}

/**
 * Creates a scope. Dispose it with `await using` (or
 * `await s[Symbol.asyncDispose]()`): every task it started is cancelled and
 * settled, and its cleanups run.
 *
 * @param options `name`, `parent`, `signal`, `timeout`, `concurrency`,
 * `circuitBreaker`, `context`, `logger`; every field is optional.
 * @returns A new scope.
 * @throws {TypeError | RangeError} When an option is invalid; the message names it.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * {
 *   await using s = scope({ timeout: 5000 });
 *   const [err, user] = await s.task(() => ({ id: 1 }), { retry: "exponential" });
 *   if (err) throw err;
 *   console.log(user.id); // 1
 * } // disposed here: nothing left running
 * ```
 */
export function scope(options?: ScopeOptions): Scope {
  return new Scope(options);
}
