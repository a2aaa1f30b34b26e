// The task options that change how a failure is reported (errorClass,
// systemErrorClass), whether the function runs at all (dedupe, memo) and when
// it starts (priority). Parsed only when one of them is given: a task without
// them never allocates the TaskExtras object.
import { isPlainError, reasonToError, toTaskError } from "../base/errors.ts";
import { InMemoryMemoStore, type MemoStore } from "../resilience/memo.ts";
import { INIT_EXTRAS, PRIORITY, type Startable } from "../base/_symbols.ts";
import type { ExtrasNode } from "./_owner.ts";
import type { Result } from "../base/types.ts";
import { assertKnownKeys, assertMs, assertObject, fail, keysOf } from "../base/_validate.ts";

/**
 * An error class a task's failures can be wrapped in (the task options
 * `errorClass` and `systemErrorClass`): called as
 * `new ErrorClass(message, { cause })`.
 *
 * @typeParam E The error it builds.
 *
 * @example
 * ```ts
 * import { type ErrorClass, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * class DbError extends Error {
 *   readonly _tag = "DbError";
 * }
 * const errorClass: ErrorClass<DbError> = DbError;
 * await using s = scope();
 * const [err] = await s.task(() => Promise.reject(new Error("down")), { errorClass });
 * console.log(err?._tag); // DbError
 * ```
 */
export type ErrorClass<E extends Error = Error> = new (
  message: string,
  options?: { cause?: unknown },
) => E;

/**
 * The task option `memo`.
 *
 * @example
 * ```ts
 * import { type MemoOptions, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const memo: MemoOptions = { key: "config", ttl: 60_000 };
 * await using s = scope();
 * await s.task(() => ({ debug: false }), { memo });
 * const [, again] = await s.task(() => ({ debug: true }), { memo });
 * console.log(again); // { debug: false }
 * ```
 */
export interface MemoOptions {
  /** The cache key: tasks of one scope with this key share the cached Result. */
  key: string | symbol;
  /** How long a successful Result stays cached, in milliseconds. */
  ttl: number;
}

/** What a task keeps of these options. */
export interface TaskExtras {
  errorClass: ErrorClass | undefined;
  systemErrorClass: ErrorClass | undefined;
  dedupe: string | symbol | undefined;
  memo: MemoOptions | undefined;
  priority: number;
}

const MEMO_KNOWN = keysOf<MemoOptions>()(["key", "ttl"]);

interface ExtraOptions {
  errorClass?: unknown;
  systemErrorClass?: unknown;
  dedupe?: unknown;
  memo?: unknown;
  priority?: unknown;
}

function assertClass(what: string, option: string, value: unknown): asserts value is ErrorClass {
  if (typeof value !== "function" || !(value.prototype instanceof Error || value === Error)) {
    fail(what, option, "an Error class (a subclass of Error)", value, false);
  }
}

function assertKey(what: string, option: string, value: unknown): void {
  if (typeof value !== "string" && typeof value !== "symbol") {
    fail(what, option, "a string or symbol", value, false);
  }
}

/** Validates the options; `undefined` when none of them is set. */
export function parseExtras(what: string, options: ExtraOptions): TaskExtras | undefined {
  const { errorClass, systemErrorClass, dedupe, memo, priority } = options;
  if (
    errorClass === undefined && systemErrorClass === undefined && dedupe === undefined &&
    memo === undefined && priority === undefined
  ) return undefined;
  if (errorClass !== undefined) assertClass(what, "errorClass", errorClass);
  if (systemErrorClass !== undefined) assertClass(what, "systemErrorClass", systemErrorClass);
  if (dedupe !== undefined) assertKey(what, "dedupe", dedupe);
  if (memo !== undefined) {
    assertObject(what, "memo", memo);
    assertKnownKeys(`${what}: "memo"`, memo, MEMO_KNOWN);
    const { key, ttl } = memo as Partial<MemoOptions>;
    assertKey(what, "memo.key", key);
    assertMs(what, "memo.ttl", ttl);
  }
  if (priority !== undefined && (typeof priority !== "number" || !Number.isFinite(priority))) {
    fail(what, "priority", "a finite number", priority, typeof priority === "number");
  }
  return {
    errorClass: errorClass as ErrorClass | undefined,
    systemErrorClass: systemErrorClass as ErrorClass | undefined,
    dedupe: dedupe as string | symbol | undefined,
    memo: memo as MemoOptions | undefined,
    priority: (priority as number | undefined) ?? 0,
  };
}

function wrap(errorClass: ErrorClass, value: unknown): Error {
  if (value instanceof errorClass) return value;
  return new errorClass(value instanceof Error ? value.message : String(value), { cause: value });
}

/** The Error a Result carries for a value the task's function threw. */
export function thrownError(extras: TaskExtras, thrown: unknown): Error {
  if (extras.errorClass !== undefined) return wrap(extras.errorClass, thrown);
  const system = extras.systemErrorClass;
  if (system !== undefined) {
    // Tagged errors and Error subclasses are the code's own: they pass through.
    if (thrown instanceof Error && !isPlainError(thrown)) return thrown;
    return wrap(system, thrown);
  }
  return toTaskError(thrown);
}

/** The Error a Result carries for a cancellation or timeout. */
export function abortError(extras: TaskExtras, reason: unknown): Error {
  const error = reasonToError(reason);
  return extras.errorClass === undefined ? error : wrap(extras.errorClass, error);
}

/** A task another one can share: what dedupe keeps per key. */
export type Shared = PromiseLike<Result<Error, unknown>> & { readonly isSettled: boolean };

/** The unsettled task running under `key` in `owner`, if any. */
export function dedupeLeader(owner: ExtrasNode, key: string | symbol): Shared | undefined {
  const leader = owner[INIT_EXTRAS]().dedupe?.get(key) as Shared | undefined;
  return leader !== undefined && !leader.isSettled ? leader : undefined;
}

/** Registers `task` as the one running under `key`. */
export function becomeLeader(owner: ExtrasNode, key: string | symbol, task: Shared): void {
  (owner[INIT_EXTRAS]().dedupe ??= new Map()).set(key, task);
}

/** Forgets `task` as the one running under `key` (once it settled). */
export function resign(owner: ExtrasNode, key: string | symbol, task: Shared): void {
  const registry = owner[INIT_EXTRAS]().dedupe;
  if (registry?.get(key) === task) registry.delete(key);
}

/** The memo store of `owner`, created on first use. */
export function memoStore(owner: ExtrasNode): MemoStore {
  return owner[INIT_EXTRAS]().memo ??= new InMemoryMemoStore();
}

/**
 * Memo and dedupe as `task` starts: the memoized Result to settle with, the
 * task to follow (it has `isSettled`, a Result has not) when another one runs
 * under the dedupe key, else `undefined` (`task` runs, as the key's leader if
 * it has one).
 */
export function startShared(
  owner: ExtrasNode,
  extras: TaskExtras,
  task: Shared,
): Result<Error, unknown> | Shared | undefined {
  const memo = extras.memo;
  const cached = memo === undefined ? undefined : memoStore(owner).get(memo.key);
  if (cached !== undefined) return cached;
  if (extras.dedupe === undefined) return undefined;
  const leader = dedupeLeader(owner, extras.dedupe);
  if (leader === undefined) becomeLeader(owner, extras.dedupe, task);
  return leader;
}

/** Memo and dedupe as `task` settles with `result`: releases the dedupe key and memoizes a success. */
export function endShared(
  owner: ExtrasNode,
  extras: TaskExtras,
  task: Shared,
  result: Result<Error, unknown>,
): void {
  if (extras.dedupe !== undefined) resign(owner, extras.dedupe, task);
  if (extras.memo !== undefined && result[0] === undefined) {
    memoStore(owner).set(extras.memo.key, result, extras.memo.ttl);
  }
}

/**
 * Queues `task` for a concurrency slot: after every waiting task of equal or
 * higher priority, so equal priorities keep their arrival order.
 */
export function enqueue(queue: Startable[], task: Startable): void {
  const priority = task[PRIORITY];
  let i = queue.length;
  while (i > 0 && queue[i - 1]![PRIORITY] < priority) i--;
  if (i === queue.length) queue.push(task);
  else queue.splice(i, 0, task);
}
