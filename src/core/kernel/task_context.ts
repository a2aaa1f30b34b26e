/**
 * The context object a task function receives (`{ signal, context, logger, services }`), read
 * through from the task and the scope that owns it.
 *
 * @module
 */
import type { Logger, TaskContext } from "../base/types.ts";
import { taskLogger } from "../base/loggers.ts";
import type { TaskOwner } from "./_owner.ts";
import { type ServiceMap, servicesOf } from "./services.ts";

/** What the context reads from its task. */
interface ContextTask {
  readonly signal: AbortSignal;
  readonly name: string;
  readonly id: number;
}

/** A task function's `ctx`: the task's signal, and the owner's context, logger and services. */
export class Context implements TaskContext {
  readonly #task: ContextTask;
  readonly #owner: TaskOwner;
  constructor(task: ContextTask, owner: TaskOwner) {
    this.#task = task;
    this.#owner = owner;
  }
  get signal(): AbortSignal {
    return this.#task.signal;
  }
  get context(): Readonly<Record<string, unknown>> {
    return this.#owner.context;
  }
  /**
   * The scope's logger; for a logger other than pino's, made on each read: one
   * that prefixes messages with `[scope/task#id]`.
   */
  get logger(): Logger {
    return taskLogger(this.#owner.logger, this.#owner.name, this.#task);
  }
  get services(): Readonly<ServiceMap> {
    return servicesOf(this.#owner);
  }
}
