/**
 * The scope: a node in a tree of cancellable work. Tasks, channels and child
 * scopes belong to it; aborting it aborts them; disposing it waits for them and
 * runs its cleanups. The class owns the tree, the signal and disposal; every
 * feature method hands the scope to the feature's own file.
 *
 * @module
 */
import { AbortError, TimeoutError } from "./base/errors.ts";
import { defaultLogger, type Logger, type Result, type TaskFn } from "./base/types.ts";
import { scopeLogger } from "./base/loggers.ts";
import type { ScopeLike } from "./base/scope_like.ts";
import { assertFunction, assertObject } from "./base/_validate.ts";
import {
  ABORT,
  type Abortable,
  ACQUIRE_SLOT,
  ATTACH,
  BASE_CONTEXT,
  CHILD,
  CHILDREN,
  DETACH,
  DISPOSE,
  EXTRAS,
  INIT_EXTRAS,
  RELEASE_SLOT,
  START,
  type Startable,
} from "./base/_symbols.ts";
import { setPersistence } from "./persistence/scope_persistence.ts";
import type { CircuitBreaker } from "./resilience/circuit_breaker.ts";
import { shareBreakerState } from "./resilience/_breaker_option.ts";
import { Task } from "./kernel/task.ts";
import type { TaskOptions } from "./kernel/task_options.ts";
import { enqueue } from "./kernel/task_extras.ts";
import { type Deadline, startDeadline } from "./kernel/_deadline.ts";
import type { ScopeExtras } from "./kernel/_owner.ts";
import { INSTRUMENT, type TaskInstrument } from "./kernel/_instrument.ts"; // [instrument]
import * as context from "./kernel/context.ts";
import * as services from "./kernel/services.ts";
import type { NoServices, OverrideOptions, ProvideOptions, ServiceMap } from "./kernel/services.ts";
import { type Factory, parallel, type ParallelOptions, type Values } from "./kernel/parallel.ts";
import { anyIn, raceIn, type RaceOptions } from "./kernel/race.ts";
import { ScopeFeatures } from "./scope_features.ts";
import {
  applyPrimitiveOptions,
  checkLogger,
  checkScopeOptions,
  type ChildSettings,
  type ScopeOptions,
  wantsPrimitives,
} from "./scope_options.ts";

const WHAT = "Cannot create scope";
const EMPTY_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze({});
const DISPOSED: AbortError = new AbortError("Scope disposed");
const RESOLVED: Promise<void> = Promise.resolve();
let nextId = 0;

function onScopeTimeout(s: Scope, ms: number): void {
  s.cancel(new TimeoutError(`Scope "${s.name}" exceeded its timeout of ${ms} ms`, ms));
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
export class Scope<S extends ServiceMap = ServiceMap> extends ScopeFeatures
  implements ScopeLike, AsyncDisposable {
  readonly #id: number;
  #name: string | undefined;
  #parent: Scope | undefined;
  #context: Readonly<Record<string, unknown>> = EMPTY_CONTEXT;
  #logger: Logger = defaultLogger;
  #breaker: CircuitBreaker | undefined;
  #limit = Infinity;
  #running = 0;
  #queue: Startable[] | undefined;
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #disposing = false;
  #disposal: Promise<void> | undefined;
  // Live children, as an intrusive doubly linked list: O(1) to add and remove, no allocation.
  #firstChild: Scope | undefined;
  #lastChild: Scope | undefined;
  #prevSibling: Scope | undefined;
  #nextSibling: Scope | undefined;
  #childCount = 0;
  #linked = false;
  // Unsettled tasks and open channels: the first in a slot of its own (one task: no Set).
  #dependent: Abortable | undefined;
  #dependents: Set<Abortable> | undefined;
  #cleanups: (() => unknown)[] | undefined;
  #resources: Map<unknown, unknown> | undefined;
  #deadline: Deadline<Scope> | undefined;
  #external: AbortSignal | undefined;
  // Context changes, services, dedupe and memo: created on first use.
  #extras: ScopeExtras | undefined;
  /** @internal [instrument] The instrumentation hook, inherited by children (internal.ts). */
  [INSTRUMENT]: TaskInstrument | undefined = undefined;

  /** @internal Use {@linkcode scope}. */
  constructor(options?: ScopeOptions) {
    super();
    this.#id = ++nextId;
    // Options out of line: a small constructor is inlined where the plugin creates request scopes
    // (the engine then allocates the scope in place instead of through its generic construct path).
    if (options !== undefined) this.#configure(options);
  }

  #configure(options: ScopeOptions): void {
    const given = checkScopeOptions(options, Scope);
    const { name, signal, timeout, concurrency, context, logger } = options;
    const parent = options.parent as Scope | undefined;
    let breaker = parent === undefined ? undefined : parent.#breaker;
    if (given !== undefined) breaker = given === false ? undefined : given;
    if (options.persistence !== undefined) setPersistence(this, options.persistence, parent);

    this.#name = name;
    this.#breaker = breaker;
    this.#limit = concurrency ?? (parent === undefined ? Infinity : parent.#limit);
    const inherited = parent === undefined ? EMPTY_CONTEXT : parent.#context;
    this.#context = context === undefined ? inherited : { ...inherited, ...context };
    const inheritedLogger = parent === undefined ? defaultLogger : parent.#logger;
    this.#logger = logger === undefined ? inheritedLogger : scopeLogger(logger);
    if (parent !== undefined) {
      this.#link(parent);
      this[INSTRUMENT] = parent[INSTRUMENT]; // [instrument]
    }
    if (signal !== undefined && !this.#aborted) {
      if (signal.aborted) this.#abortWith(signal.reason);
      else {
        this.#external = signal;
        signal.addEventListener("abort", this);
      }
    }
    if (timeout !== undefined) this.#startTimer(timeout);
    if (wantsPrimitives(options, this.#logger)) {
      this.#logger = applyPrimitiveOptions(this, options, this.#logger);
    }
    // A keyed breaker shares its state through the scope's persistence.
    if (breaker?.key !== undefined) shareBreakerState(this, breaker);
  }

  /** @internal The adapters' door (see `internal.ts`): a child from validated settings. */
  static [CHILD](parent: Scope<ServiceMap>, settings: ChildSettings): Scope {
    const s = new Scope();
    s.#name = settings.name;
    s.#logger = settings.logger;
    const context = settings.context;
    s.#context = parent.#context === EMPTY_CONTEXT ? context : { ...parent.#context, ...context };
    const breaker = settings.circuitBreaker;
    s.#breaker = breaker === undefined ? parent.#breaker : breaker || undefined;
    s.#limit = settings.concurrency === undefined ? parent.#limit : settings.concurrency;
    s.#link(parent);
    s[INSTRUMENT] = parent[INSTRUMENT]; // [instrument]
    if (settings.timeout !== undefined) s.#startTimer(settings.timeout);
    return s;
  }

  /** @internal Disposes; `undefined` when disposal finished synchronously (nothing to await). */
  [DISPOSE](): Promise<void> | undefined {
    const disposal = this[Symbol.asyncDispose]();
    return disposal === RESOLVED ? undefined : disposal;
  }

  #link(parent: Scope<ServiceMap>): void {
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

  /**
   * The context record passed to every task: the `context` option merged over
   * the parent's, with what `setContext()`/`removeContext()` changed here and
   * above. Frozen.
   */
  get context(): Readonly<Record<string, unknown>> {
    return context.contextOf(this);
  }

  /** The scope's logger; set it to write elsewhere from now on (children made later inherit it). */
  get logger(): Logger {
    return this.#logger;
  }

  set logger(logger: Logger) {
    this.#logger = scopeLogger(checkLogger(logger, "Cannot set logger"));
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

  /** The concurrency limit of this scope's tasks (the parent's when not set); `undefined` for none. */
  get concurrency(): number | undefined {
    return this.#limit === Infinity ? undefined : this.#limit;
  }

  /**
   * Starts a task at once and returns it; await it for `[err, value]`.
   * On an aborted or disposed scope the function is not called and the task
   * resolves to a failure carrying the scope's abort reason.
   *
   * @typeParam T The value `fn` produces.
   * @typeParam E The Result's error type (an `errorClass` sets it).
   * @param fn Receives `{ signal, context, logger, services }`.
   * @param options `timeout`, `retry`, `circuitBreaker`, `signal`, `name`,
   * `errorClass`, `systemErrorClass`, `dedupe`, `memo`, `priority`.
   * @returns The task (a PromiseLike that never rejects).
   * @throws {TypeError | RangeError} When `fn` is not a function or an option is invalid.
   */
  task<T, E extends Error = Error>(fn: TaskFn<T, S>, options?: TaskOptions<E>): Task<T, E> {
    return new Task<T, E>(this, fn as TaskFn<T>, options);
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
   * @param options `concurrency`, `continueOnError`, `timeout`, `signal`.
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
   * and the others are cancelled. Options: `timeout`, `signal`,
   * `requireSuccess` (only a success decides), `staggerDelay` and
   * `staggerMaxConcurrent` (hedging: start one, then the next after a delay).
   */
  race<T>(factories: readonly TaskFn<T>[], options?: RaceOptions): Promise<Result<Error, T>> {
    return raceIn(this, factories, options);
  }

  /**
   * Runs factories as tasks; the first success wins and the others are
   * cancelled. If all fail, the error is an `AggregateError` of every failure.
   */
  any<T>(factories: readonly TaskFn<T>[], options?: RaceOptions): Promise<Result<Error, T>> {
    return anyIn(this, factories, options);
  }

  /** Creates a child scope (same as `scope({ ...options, parent: this })`); it sees this scope's services. */
  createChild(options?: Omit<ScopeOptions, "parent">): Scope<S> {
    if (options === undefined) return new Scope<S>({ parent: this });
    assertObject(WHAT, "options", options);
    return new Scope<S>({ ...options, parent: this });
  }

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
      const busy = this.#controller !== undefined || this.#childCount > 0 ||
        this.#dependent !== undefined || this.#dependents?.size;
      if (busy) return this.#abortThenSettle();
      this.#aborted = true;
      this.#reason = DISPOSED;
      this.#deadline?.cancel();
      this.#deadline = undefined;
    }
    return this.#disposal = this.#settle();
  }

  /**
   * Disposal with something to abort, whose listeners may dispose again: the promise they get must
   * exist before. Out of line: its closures would make every disposal allocate a closure context.
   */
  #abortThenSettle(): Promise<void> {
    let start!: () => void;
    this.#disposal = new Promise<void>((resolve) => start = resolve).then(() => this.#settle());
    this.#abortWith(DISPOSED);
    start();
    return this.#disposal;
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
    enqueue(this.#queue ??= [], task);
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

  /** @internal */
  get [BASE_CONTEXT](): Readonly<Record<string, unknown>> {
    return this.#context;
  }

  /** @internal */
  get [EXTRAS](): ScopeExtras | undefined {
    return this.#extras;
  }

  /** @internal */
  [INIT_EXTRAS](): ScopeExtras {
    return this.#extras ??= {};
  }

  /** @internal The live children, in creation order. */
  [CHILDREN](): Scope[] {
    const children: Scope[] = [];
    for (let c = this.#firstChild; c !== undefined; c = c.#nextSibling) children.push(c);
    return children;
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

  // ---- Features: each method hands this scope to the feature's own file ----
  // (services need the service map `S`; the other features are in scope_features.ts)

  // ---- kernel/: services ----
  /**
   * Provides a service under `key` to this scope, its tasks (`ctx.services`)
   * and its children. A function is called to build the value; `dispose`
   * runs on disposal (last provided, first disposed).
   *
   * @returns This scope, typed with the new service.
   * @throws {TypeError} On a bad key or option. {Error} On a disposed scope.
   */
  provide<K extends string | symbol, T>(
    key: K,
    valueOrFactory: T | (() => T),
    options?: ProvideOptions<T>,
  ): Scope<S & Record<K, T>> {
    services.provide(this, key, valueOrFactory, options);
    return this as unknown as Scope<S & Record<K, T>>;
  }

  /** The service under `key`, here or in the nearest ancestor; `undefined` when none provides it. */
  use<K extends keyof S>(key: K): S[K] {
    return services.use(this, key as string | symbol) as S[K];
  }

  /** Whether a service is provided under `key` here or above; false once disposed. */
  has<K extends keyof S>(key: K): boolean {
    return services.has(this, key as string | symbol);
  }

  /**
   * Replaces, for this scope and its children, a service provided here or
   * above (tests use it for fakes).
   *
   * @returns This scope, to chain calls.
   * @throws {Error} Naming the key, when it was never provided; on a disposed scope.
   */
  override<K extends keyof S>(
    key: K,
    valueOrFactory: S[K] | (() => S[K]),
    options?: OverrideOptions<S[K]>,
  ): this {
    services.override(this, key as string | symbol, valueOrFactory, options);
    return this;
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
export function scope<P extends ServiceMap>(
  options: ScopeOptions & { parent: Scope<P> },
): Scope<P>;
/**
 * Creates a scope without a typed parent: its service map starts empty.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope({ name: "job" }).provide("answer", 42);
 * console.log(s.use("answer")); // 42
 * ```
 */
export function scope(options?: ScopeOptions): Scope<NoServices>;
export function scope(options?: ScopeOptions): Scope<ServiceMap> {
  return new Scope(options);
}
