/**
 * The context object a task function receives (`{ signal, context, logger, services }`), read
 * through from the task and the scope that owns it.
 *
 * @module
 */
import type { Logger, TaskContext } from "../base/types.ts";
import type { TaskOwner } from "./_owner.ts";
import { type ServiceMap, servicesOf } from "./services.ts";

/** A task function's `ctx`: the task's signal, and the owner's context, logger and services. */
export class Context implements TaskContext {
  readonly #task: { readonly signal: AbortSignal };
  readonly #owner: TaskOwner;
  constructor(task: { readonly signal: AbortSignal }, owner: TaskOwner) {
    this.#task = task;
    this.#owner = owner;
  }
  get signal(): AbortSignal {
    return this.#task.signal;
  }
  get context(): Readonly<Record<string, unknown>> {
    return this.#owner.context;
  }
  get logger(): Logger {
    return this.#owner.logger;
  }
  get services(): Readonly<ServiceMap> {
    return servicesOf(this.#owner);
  }
}
