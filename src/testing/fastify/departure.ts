/**
 * When and how a client under test leaves: the moments `leaveRequest` accepts
 * ({@linkcode LeaveAt}), and the departure that carries one out (the client
 * leaves, then waits until the server has seen it go).
 *
 * @module
 */
import { AssertionError } from "node:assert";
import type { FastifyReply } from "fastify";
import { nextMacrotask, pollReal } from "../_real_timers.ts";
import { installedController } from "../clock/time_controller.ts";
import type { LeavingClient } from "./_client.ts";
import type { Expectation, LifecyclePhase, ProbedRequest, TaskRecord } from "./request_probe.ts";

/**
 * When the client leaves:
 * - `{ phase }`: when the request enters that phase (the probe's hook for it
 *   holds the phase until the server has seen the client go, then lets it go
 *   on); `"handler"`: once the handler has started and yielded (one turn of
 *   the event loop after the probe's `preHandler` hook);
 * - `{ task }`: right after a task of that name was started on
 *   `request.scope` (in a hook or the handler);
 * - `{ afterMs }`: that many milliseconds after the request reached
 *   `onRequest`, on the global clock; with a virtual clock installed,
 *   `leaveRequest` advances it by that much itself (other timers fire on the
 *   way, as with `advance()`).
 *
 * @example
 * ```ts
 * import type { LeaveAt } from "@go-go-scope/adapter-fastify/testing";
 *
 * const moments: LeaveAt[] = [{ phase: "preHandler" }, { task: "fetch-user" }, { afterMs: 50 }];
 * console.log(moments.length); // 3
 * ```
 */
export type LeaveAt =
  | { readonly phase: Exclude<LifecyclePhase, "onResponse"> }
  | { readonly task: string }
  | { readonly afterMs: number };

/** The moment, in words (for failure messages). */
export function describeMoment(at: LeaveAt): string {
  if ("phase" in at) return `in phase ${at.phase}`;
  if ("task" in at) return `after task "${at.task}" started`;
  return `${at.afterMs} ms after the request arrived`;
}

/** What the probe saw of the request so far, in words (for failure messages). */
export function describeRequest(record: ProbedRequest | undefined): string {
  if (record === undefined) return "the request never reached onRequest";
  const tasks = record.tasks.map((t) => `${t.name} (${t.outcome})`).join(", ") || "none";
  return `phases: ${record.phases.join(" > ") || "none"}; tasks: ${tasks}`;
}

/**
 * @internal The client's side of one request: leaves at the moment, then waits
 * for the server to see it.
 */
export class Departure implements Expectation {
  record: ProbedRequest | undefined;
  phase: LifecyclePhase | undefined;
  #reply: FastifyReply | undefined;
  #closed = false;
  #going: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly gone: Promise<void>;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;

  constructor(
    readonly at: LeaveAt,
    readonly client: LeavingClient,
    readonly timeout: number,
  ) {
    this.gone = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.gone.catch(() => {}); // observed through leaveRequest's race
  }

  arrived(record: ProbedRequest, reply: FastifyReply): void {
    this.record = record;
    this.#reply = reply;
    (reply.raw as { once(event: "close", fn: () => void): unknown }).once(
      "close",
      () => (this.#closed = true),
    );
    if (!("afterMs" in this.at)) return;
    // On the global clock: the virtual one when installed, which is then moved on
    // by afterMs here (the test need not know when the request arrived).
    this.#timer = setTimeout(() => void this.go(), this.at.afterMs);
    installedController()?.advance(this.at.afterMs).catch((error) => this.#reject(error));
  }

  entered(_record: ProbedRequest, phase: LifecyclePhase): Promise<void> | undefined {
    if (!("phase" in this.at) || this.at.phase !== phase || this.#going !== undefined) {
      return undefined;
    }
    if (phase === "handler") {
      void nextMacrotask().then(() => this.go());
      return undefined;
    }
    // Hold the phase until the server saw the client go.
    return this.go();
  }

  started(_record: ProbedRequest, task: TaskRecord): void {
    if ("task" in this.at && task.name === this.at.task && this.#going === undefined) {
      queueMicrotask(() => void this.go());
    }
  }

  /**
   * Leaves (once); resolves when the server has seen it, or gave up waiting.
   * Never rejects: a failure reaches leaveRequest through `gone`.
   */
  go(): Promise<void> {
    return this.#going ??= this.#leave().then(this.#resolve, this.#reject);
  }

  cancel(): void {
    clearTimeout(this.#timer);
  }

  async #leave(): Promise<void> {
    this.phase = this.record?.phase;
    this.client.leave();
    const scope = this.record?.scope;
    const raw = this.#reply?.raw as { destroyed?: boolean } | undefined;
    const seen = () =>
      (this.#closed || raw?.destroyed === true) && (scope === undefined || scope.isAborted);
    if (!await pollReal(seen, this.timeout)) {
      throw new AssertionError({
        message:
          `Cannot leave a request: the server did not see the client leave within ${this.timeout} ms ` +
          `(${describeRequest(this.record)})`,
      });
    }
  }
}
