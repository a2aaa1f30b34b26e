/**
 * Checkpoints: a task with an `id` and the `checkpoint` option gets
 * `ctx.checkpoint` (`save(data)` and the `data` of the latest checkpoint of a
 * previous, unfinished run) and `ctx.progress`; `scope.resumeTask(id, fn)`
 * runs it again from there. A task
 * that succeeds deletes its checkpoints; one that fails keeps them. Stored in
 * the scope's `persistence.checkpoint`, else in a process-wide
 * {@linkcode InMemoryCheckpointProvider}.
 *
 * @module
 */
import type { Checkpoint, CheckpointProvider } from "./persistence.ts";
import { checkpointProviderOf } from "./scope_persistence.ts";
import { whenConnected } from "./_connect.ts";
import type {
  CheckpointContext,
  Logger,
  ProgressContext,
  Result,
  TaskContext,
  TaskFn,
} from "../base/types.ts";
import {
  assertFunction,
  assertInteger,
  assertKnownKeys,
  assertObject,
  assertString,
  fail,
} from "../base/_validate.ts";

/** The task option `checkpoint` (with `id`). */
export interface CheckpointOptions {
  /** Checkpoints kept per task (older ones deleted on save). @default 10 */
  maxCheckpoints?: number;
  /** Called after each save. */
  onCheckpoint?: (checkpoint: Checkpoint<unknown>) => void;
  /** Called before the task runs when a previous run left a checkpoint. */
  onResume?: (checkpoint: Checkpoint<unknown>) => void;
}

/**
 * Checkpoints in this process's memory.
 *
 * @example
 * ```ts
 * import { InMemoryCheckpointProvider, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const checkpoint = new InMemoryCheckpointProvider();
 * await using s = scope({ persistence: { checkpoint } });
 * const [err] = await s.task(async (ctx) => {
 *   await ctx.checkpoint?.save({ done: 50 });
 *   throw new Error("crashed half way");
 * }, { id: "import", checkpoint: {} });
 * console.log(err?.message, (await checkpoint.loadLatest("import"))?.data); // crashed half way { done: 50 }
 * const [, done] = await s.resumeTask("import", (ctx) => (ctx.checkpoint?.data as { done: number }).done);
 * console.log(done); // 50
 * ```
 */
export class InMemoryCheckpointProvider implements CheckpointProvider {
  readonly #byTask = new Map<string, Checkpoint<unknown>[]>();

  /** Saves a checkpoint. */
  save<T>(checkpoint: Checkpoint<T>): Promise<void> {
    const list = this.#byTask.get(checkpoint.taskId);
    if (list === undefined) this.#byTask.set(checkpoint.taskId, [checkpoint]);
    else {
      list.push(checkpoint);
      list.sort((a, b) => a.sequence - b.sequence);
    }
    return Promise.resolve();
  }

  /** The newest checkpoint of the task. */
  loadLatest<T>(taskId: string): Promise<Checkpoint<T> | undefined> {
    const list = this.#byTask.get(taskId);
    return Promise.resolve(list?.[list.length - 1] as Checkpoint<T> | undefined);
  }

  /** The checkpoint with this id. */
  load<T>(checkpointId: string): Promise<Checkpoint<T> | undefined> {
    for (const list of this.#byTask.values()) {
      const found = list.find((c) => c.id === checkpointId);
      if (found !== undefined) return Promise.resolve(found as Checkpoint<T>);
    }
    return Promise.resolve(undefined);
  }

  /** The task's checkpoints, oldest first. */
  list(taskId: string): Promise<Checkpoint<unknown>[]> {
    return Promise.resolve([...(this.#byTask.get(taskId) ?? [])]);
  }

  /** Keeps the `keepCount` newest checkpoints of the task. */
  cleanup(taskId: string, keepCount: number): Promise<void> {
    const list = this.#byTask.get(taskId);
    if (list !== undefined && list.length > keepCount) list.splice(0, list.length - keepCount);
    return Promise.resolve();
  }

  /** Deletes every checkpoint of the task. */
  deleteAll(taskId: string): Promise<void> {
    this.#byTask.delete(taskId);
    return Promise.resolve();
  }
}

/**
 * Creates a progress reporter that estimates the time left from the rate so far.
 *
 * @example
 * ```ts
 * import { createProgressContext } from "@go-go-scope/adapter-fastify/core";
 *
 * const progress = createProgressContext();
 * const off = progress.onUpdate(({ percentage }) => console.log(`${percentage}%`));
 * progress.update(25); // 25%
 * off();
 * console.log(progress.get().percentage); // 25
 * ```
 */
export function createProgressContext(): ProgressContext {
  let listeners: Set<(p: { percentage: number; eta?: number }) => void> | undefined;
  let current: { percentage: number; eta?: number } = { percentage: 0 };
  let startedAt: number | undefined;
  return {
    update(percentage: number): void {
      if (typeof percentage !== "number" || !(percentage >= 0 && percentage <= 100)) {
        fail(
          "Cannot update progress",
          "percentage",
          "a number from 0 to 100",
          percentage,
          typeof percentage === "number",
        );
      }
      const now = performance.now();
      startedAt ??= now;
      const elapsed = now - startedAt;
      current = percentage > 0 && percentage < 100 && elapsed > 0
        ? { percentage, eta: Math.round((elapsed / percentage) * (100 - percentage)) }
        : { percentage };
      if (listeners !== undefined) { for (const l of [...listeners]) l({ ...current }); }
    },
    get: () => ({ ...current }),
    onUpdate(callback) {
      assertFunction("Cannot listen to progress", "callback", callback);
      (listeners ??= new Set()).add(callback);
      return () => void listeners?.delete(callback);
    },
  };
}

/** What {@linkcode createCheckpointContext} saves through; each save updates it. */
export interface CheckpointState<T = unknown> {
  /** Where checkpoints are stored. */
  provider: CheckpointProvider;
  /** The task the checkpoints belong to. */
  taskId: string;
  /** The newest checkpoint: its data is the context's `data`. Each save replaces it. */
  current?: Checkpoint<T> | undefined;
  /** The sequence number of `current` (0 for none); each save increments it. */
  sequence: number;
  /** Checkpoints kept for the task (older ones deleted after each save). */
  maxCheckpoints: number;
  /** Called after each save. */
  onCheckpoint?: ((checkpoint: Checkpoint<T>) => void) | undefined;
  /** Where each save reads its `progress` and time estimate. @default none (progress 0) */
  progress?: ProgressContext | undefined;
}

/**
 * A task's `ctx.checkpoint` over `state`, for code that drives checkpoints
 * itself: `save(data)` stores the next checkpoint, keeps the newest
 * `maxCheckpoints`, updates `state` and calls `onCheckpoint`; `data` is the
 * newest checkpoint's.
 *
 * @example
 * ```ts
 * import { createCheckpointContext, InMemoryCheckpointProvider } from "@go-go-scope/adapter-fastify/core";
 *
 * const provider = new InMemoryCheckpointProvider();
 * const state = { provider, taskId: "import", sequence: 0, maxCheckpoints: 3 };
 * const checkpoint = createCheckpointContext<{ row: number }>(state);
 * await checkpoint.save({ row: 500 });
 * console.log(checkpoint.data, state.sequence); // { row: 500 } 1
 * console.log((await provider.loadLatest("import"))?.data); // { row: 500 }
 * ```
 */
export function createCheckpointContext<T>(state: CheckpointState<T>): CheckpointContext<T> {
  const what = "Cannot create checkpoint context";
  assertObject(what, "state", state);
  const { provider, taskId, sequence, maxCheckpoints, onCheckpoint, progress } = state;
  assertObject(what, "provider", provider);
  assertFunction(what, "provider.save", provider.save);
  assertFunction(what, "provider.cleanup", provider.cleanup);
  assertString(what, "taskId", taskId);
  assertInteger(what, "sequence", sequence, 0);
  assertInteger(what, "maxCheckpoints", maxCheckpoints, 1);
  if (onCheckpoint !== undefined) assertFunction(what, "onCheckpoint", onCheckpoint);
  return {
    get data() {
      return state.current?.data;
    },
    async save(data: T): Promise<void> {
      const { percentage, eta } = progress?.get() ?? { percentage: 0 };
      const now = Date.now();
      const next = ++state.sequence;
      const saved: Checkpoint<T> = {
        id: `${state.taskId}-${next}-${now}`,
        taskId: state.taskId,
        sequence: next,
        timestamp: now,
        progress: percentage,
        data,
      };
      if (eta !== undefined) saved.estimatedTimeRemaining = eta;
      await state.provider.save(saved);
      state.current = saved;
      await state.provider.cleanup(state.taskId, state.maxCheckpoints);
      state.onCheckpoint?.(saved);
    },
  };
}

let defaultProvider: InMemoryCheckpointProvider | undefined;
const WHAT = "Cannot create task";

/** What the wrapper needs from the task's scope. */
interface Owner {
  readonly logger: Logger;
}

function providerOf(owner: Owner): CheckpointProvider {
  return checkpointProviderOf(owner as never) ??
    (defaultProvider ??= new InMemoryCheckpointProvider());
}

/**
 * @internal Validates the task option `checkpoint` (and the `id` it needs) and
 * wraps `fn` so that it receives `ctx.checkpoint` and `ctx.progress`.
 */
export function withCheckpoints<T>(
  fn: TaskFn<T>,
  id: unknown,
  option: unknown,
  owner: Owner,
): TaskFn<T> {
  if (id === undefined) fail(WHAT, "id", 'a non-empty string ("checkpoint" needs it)', id, false);
  assertString(WHAT, "id", id);
  if (id === "") fail(WHAT, "id", "a non-empty string", id, true);
  let keep = 10;
  let onCheckpoint: CheckpointOptions["onCheckpoint"];
  let onResume: CheckpointOptions["onResume"];
  if (option !== undefined) {
    assertObject(WHAT, "checkpoint", option);
    assertKnownKeys(WHAT, option, ["maxCheckpoints", "onCheckpoint", "onResume"]);
    const o = option as CheckpointOptions;
    if (o.maxCheckpoints !== undefined) {
      assertInteger(WHAT, "checkpoint.maxCheckpoints", keep = o.maxCheckpoints, 1);
    }
    if (o.onCheckpoint !== undefined) {
      assertFunction(WHAT, "checkpoint.onCheckpoint", onCheckpoint = o.onCheckpoint);
    }
    if (o.onResume !== undefined) {
      assertFunction(WHAT, "checkpoint.onResume", onResume = o.onResume);
    }
  }
  const provider = providerOf(owner);
  return async (ctx: TaskContext): Promise<T> => {
    let latest: Checkpoint<unknown> | undefined;
    try {
      const connecting = whenConnected(provider);
      if (connecting !== undefined) await connecting;
      latest = await provider.loadLatest(id);
    } catch (error) {
      owner.logger.error(
        { err: error, taskId: id },
        "loading the latest checkpoint failed; starting afresh",
      );
    }
    if (latest !== undefined) onResume?.(latest);
    const progress = createProgressContext();
    const checkpoint = createCheckpointContext({
      provider,
      taskId: id,
      current: latest,
      sequence: latest?.sequence ?? 0,
      maxCheckpoints: keep,
      onCheckpoint,
      progress,
    });
    const value = await fn(extend(ctx, checkpoint, progress));
    try {
      await provider.deleteAll(id);
    } catch (error) {
      owner.logger.error(
        { err: error, taskId: id },
        "deleting the checkpoints of a finished task failed",
      );
    }
    return value;
  };
}

/** The task's context with `checkpoint` and `progress` added (its own getters keep working). */
function extend(
  ctx: TaskContext,
  checkpoint: CheckpointContext,
  progress: ProgressContext,
): TaskContext {
  return new Proxy(ctx, {
    get(target, key) {
      if (key === "checkpoint") return checkpoint;
      if (key === "progress") return progress;
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
    has: (target, key) => key === "checkpoint" || key === "progress" || Reflect.has(target, key),
  });
}

/** Options of `scope.resumeTask()`: the task's options without `id`, and `requireExisting`. */
export interface ResumeTaskOptions {
  /** Fail (without running) when no checkpoint exists for the id. @default false */
  requireExisting?: boolean;
}

/** What `resumeTask` needs from the scope. */
interface ResumeOwner extends Owner {
  task<T>(fn: TaskFn<T>, options: Record<string, unknown>): PromiseLike<Result<Error, T>>;
}

/** `scope.resumeTask(taskId, fn, options)`: runs `fn` as the task `taskId`, from its latest checkpoint. */
export async function resumeTask<T>(
  scope: ResumeOwner,
  taskId: string,
  fn: TaskFn<T>,
  options?: ResumeTaskOptions & Record<string, unknown>,
): Promise<Result<Error, T>> {
  assertString("Cannot resume task", "taskId", taskId);
  let rest: Record<string, unknown> = {};
  if (options !== undefined) {
    assertObject("Cannot resume task", "options", options);
    const { requireExisting, id: _id, ...others } = options;
    if (_id !== undefined) {
      fail(
        "Cannot resume task",
        "options.id",
        "absent (the task id is the first argument)",
        _id,
        false,
      );
    }
    rest = others;
    if (requireExisting !== undefined && typeof requireExisting !== "boolean") {
      fail("Cannot resume task", "requireExisting", "a boolean", requireExisting, false);
    }
    const provider = providerOf(scope);
    if (requireExisting === true) await whenConnected(provider);
    if (requireExisting === true && (await provider.loadLatest(taskId)) === undefined) {
      return [new Error(`No checkpoint found for task ID: ${taskId}`), undefined];
    }
  }
  return await scope.task(fn, { checkpoint: {}, ...rest, id: taskId });
}
