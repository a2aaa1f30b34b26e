// Symbol-keyed hooks the core's classes use to talk to each other without
// public methods or per-call closures. Never re-exported.
import type { CircuitBreaker } from "./circuit_breaker.ts";
import type { Logger } from "./types.ts";

/** Something a scope notifies, synchronously, when it aborts. */
export interface Abortable {
  [ABORT](reason: unknown): void;
}

/** What a task needs from the scope that owns it. */
export interface TaskOwner {
  readonly context: Readonly<Record<string, unknown>>;
  readonly logger: Logger;
  readonly isAborted: boolean;
  readonly abortReason: unknown;
  readonly circuitBreaker: CircuitBreaker | undefined;
  [ATTACH](dependent: Abortable): void;
  [DETACH](dependent: Abortable): void;
  /** True when a concurrency slot was taken; otherwise the task is queued and started later. */
  [ACQUIRE_SLOT](task: Startable): boolean;
  [RELEASE_SLOT](): void;
}

/** A task waiting for a concurrency slot. */
export interface Startable {
  readonly isSettled: boolean;
  [START](): void;
}

export const ABORT: unique symbol = Symbol("ggs.abort");
export const ATTACH: unique symbol = Symbol("ggs.attach");
export const DETACH: unique symbol = Symbol("ggs.detach");
export const ACQUIRE_SLOT: unique symbol = Symbol("ggs.acquireSlot");
export const RELEASE_SLOT: unique symbol = Symbol("ggs.releaseSlot");
export const START: unique symbol = Symbol("ggs.start");

/** A timer handle in both runtimes. */
export type Timer = ReturnType<typeof setTimeout>;

export const CHILD: unique symbol = Symbol("ggs.child");
export const DISPOSE: unique symbol = Symbol("ggs.dispose");

/**
 * What the Fastify plugin passes to create a request scope. Validated by the
 * caller (at registration and in onRoute), so the hot path builds no options
 * object and runs no validator.
 */
export interface ChildSettings {
  readonly name: string;
  readonly logger: Logger;
  readonly context: Readonly<Record<string, unknown>>;
  /** Milliseconds; `undefined` for no deadline. */
  readonly timeout: number | undefined;
  /** `undefined` for no limit. */
  readonly concurrency: number | undefined;
  /** `undefined` inherits the parent's breaker; `false` means none. */
  readonly circuitBreaker: CircuitBreaker | false | undefined;
}

export const SET_OWNER: unique symbol = Symbol("ggs.setOwner");

// ---- parity 2 (primitives) ----
/** The live child scopes of a scope, in creation order (for `debugTree`). */
export const CHILDREN: unique symbol = Symbol("ggs.children");
