/**
 * The scope option `hooks`: callbacks at task and scope lifecycle points,
 * for logging and instrumentation.
 *
 * @module
 */
import { ABORT, type Abortable, ATTACH, DETACH, SERVICE_DISPOSED } from "../base/_symbols.ts";
import { Task } from "../kernel/task.ts";
import { assertFunction, assertKnownKeys, fail } from "../base/_validate.ts";
import type { ScopeLike } from "../base/scope_like.ts";

/**
 * Lifecycle callbacks of a scope (the `hooks` option). A hook that throws is
 * logged on the scope's logger; it never breaks the task or the disposal.
 *
 * @example
 * ```ts
 * import { scope, type ScopeHooks } from "@go-go-scope/adapter-fastify/core";
 *
 * const hooks: ScopeHooks = {
 *   afterTask: (name, ms, error) => console.log(name, error ? "failed" : "ok"),
 * };
 * await using s = scope({ hooks });
 * await s.task(() => 1, { name: "one" }); // one ok
 * ```
 */
export interface ScopeHooks {
  /** Before a task of this scope starts (or queues for a concurrency slot). */
  beforeTask?: (taskName: string, taskIndex: number, options?: unknown) => void;
  /** After a task of this scope settled, with its duration and its error if it failed. */
  afterTask?: (taskName: string, durationMs: number, error?: unknown, taskIndex?: number) => void;
  /** When the scope aborts: cancelled, timed out, its parent aborted, or disposed. */
  onCancel?: (reason: unknown) => void;
  /** When disposal begins (for a scope aborted earlier: just before `afterDispose`). */
  beforeDispose?: () => void;
  /** When disposal has run every cleanup, before the scope leaves its parent. */
  afterDispose?: () => void;
  /**
   * After each service disposer ran (a `provide()` or `override()` with
   * `dispose`): its index in the scope (1 for the first registered) and the
   * error it threw, if any (that error still fails the disposal).
   */
  onDispose?: (index: number, error?: unknown) => void;
}

const WHAT = "Cannot create scope";
const KNOWN = [
  "beforeTask",
  "afterTask",
  "onCancel",
  "beforeDispose",
  "afterDispose",
  "onDispose",
] as const;

function call(s: ScopeLike, name: string, fn: () => void): void {
  try {
    fn();
  } catch (error) {
    s.logger.error({ err: error, scope: s.name, hook: name }, "scope hook threw");
  }
}

class LifecycleHooks implements Abortable {
  readonly #scope: ScopeLike;
  readonly #hooks: ScopeHooks;
  #beforeDone = false;
  constructor(s: ScopeLike, hooks: ScopeHooks) {
    this.#scope = s;
    this.#hooks = hooks;
  }

  [ABORT](reason: unknown): void {
    const s = this.#scope;
    s[DETACH](this);
    const onCancel = this.#hooks.onCancel;
    if (onCancel !== undefined) call(s, "onCancel", () => onCancel(reason));
    if (s.isDisposed) this.before();
  }

  before(): void {
    if (this.#beforeDone) return;
    this.#beforeDone = true;
    const fn = this.#hooks.beforeDispose;
    if (fn !== undefined) call(this.#scope, "beforeDispose", fn);
  }

  after(): void {
    this.before();
    const fn = this.#hooks.afterDispose;
    if (fn !== undefined) call(this.#scope, "afterDispose", fn);
  }
}

/** Validates `hooks` and installs them on `s`. */
export function installHooks(s: ScopeLike, hooks: unknown): void {
  if (typeof hooks !== "object" || hooks === null || Array.isArray(hooks)) {
    fail(WHAT, "hooks", `an object with any of ${KNOWN.join(", ")}`, hooks, false);
  }
  assertKnownKeys(`${WHAT}: hooks`, hooks, KNOWN);
  const h = hooks as ScopeHooks;
  for (const key of KNOWN) if (h[key] !== undefined) assertFunction(WHAT, `hooks.${key}`, h[key]);
  const { beforeTask, afterTask } = h;
  if (beforeTask !== undefined || afterTask !== undefined) {
    // Tasks announce themselves to their scope through ATTACH, once, before
    // they run: this scope alone (an own property) hears of each of them.
    const attach = Object.getPrototypeOf(s)[ATTACH] as (d: Abortable) => void;
    Object.defineProperty(s, ATTACH, {
      value(this: ScopeLike, dependent: Abortable): void {
        attach.call(this, dependent);
        if (!(dependent instanceof Task)) return;
        const task = dependent as Task<unknown>;
        const start = performance.now();
        if (beforeTask !== undefined) call(s, "beforeTask", () => beforeTask(task.name, task.id));
        if (afterTask !== undefined) {
          task.then(([err]) =>
            call(
              s,
              "afterTask",
              () => afterTask(task.name, performance.now() - start, err, task.id),
            )
          );
        }
      },
    });
  }
  const onDispose = h.onDispose;
  if (onDispose !== undefined) {
    Object.defineProperty(s, SERVICE_DISPOSED, {
      value: (index: number, error: unknown) => call(s, "onDispose", () => onDispose(index, error)),
    });
  }
  const lifecycle = new LifecycleHooks(s, h);
  if (h.onCancel !== undefined || h.beforeDispose !== undefined) s[ATTACH](lifecycle);
  // Registered first, so it runs after every other cleanup.
  if (h.beforeDispose !== undefined || h.afterDispose !== undefined) {
    s.onDispose(() => lifecycle.after());
  }
}
