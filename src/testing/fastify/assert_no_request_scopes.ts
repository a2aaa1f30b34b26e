/**
 * `assertNoRequestScopes(app)`: fails unless every request scope of the app
 * is fully disposed, after waiting a little for those on their way out.
 *
 * @module
 */
import { AssertionError } from "node:assert";
import { inspect } from "node:util";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from "fastify";
import type { Scope } from "../../core/mod.ts";
import type { AppLike } from "./_app.ts";
import { pollReal } from "../_real_timers.ts";
import { fail } from "../_validate.ts";
import { type ProbedRequest, probeOf } from "./request_probe.ts";
import { installedController } from "../clock/time_controller.ts";

/**
 * Options of {@linkcode assertNoRequestScopes}.
 *
 * @example
 * ```ts
 * import type { AssertNoRequestScopesOptions } from "@go-go-scope/adapter-fastify/testing";
 *
 * const options: AssertNoRequestScopesOptions = { timeout: 500 };
 * console.log(options.timeout); // 500
 * ```
 */
export interface AssertNoRequestScopesOptions {
  /** Real milliseconds to wait for scopes still being disposed. @default 2000 */
  timeout?: number;
}

const WHAT = "Cannot check request scopes";
/** Scopes seen fully disposed (their disposal promise settled). */
const finished = new WeakSet<Scope>();
const watched = new WeakSet<Scope>();

/** True once `scope`'s disposal has finished; starts watching it once it has begun. */
function isGone(scope: Scope): boolean {
  if (finished.has(scope)) return true;
  if (scope.isDisposed && !watched.has(scope)) {
    watched.add(scope);
    // Disposal has begun: this returns its promise (it does not start another).
    const done = () => void finished.add(scope);
    scope[Symbol.asyncDispose]().then(done, done);
  }
  return false;
}

function describeAlive(record: ProbedRequest): string {
  const scope = record.scope!;
  const state = scope.isDisposed
    ? "disposing"
    : scope.isAborted
    ? `aborted (${inspect(scope.abortReason, { depth: 0, breakLength: Infinity })}), not disposed`
    : "not aborted";
  const pending = record.tasks.filter((t) => t.outcome === "pending").map((t) => t.name);
  return `${scope.name} (${record.method} ${record.url}, phases ${
    record.phases.join(" > ")
  }): ${state}` + (pending.length ? `; pending tasks: ${pending.join(", ")}` : "");
}

/**
 * Fails (with an `AssertionError`) unless no request scope of `app` is left
 * alive: each has been disposed to the end (detached from `app.scope`).
 * Scopes still being disposed get up to `timeout` real milliseconds. With a
 * probe on the app ({@linkcode probeRequests}, or after `leaveRequest`), it
 * checks every request the probe saw and names the ones left; without one it
 * checks that `app.scope` has no child scope left (so children you create on
 * `app.scope` yourself count too) and prints its tree. Works with a virtual
 * clock installed (it waits in real time; work that waits on the virtual
 * clock needs the test to advance it).
 *
 * @param app The app under test (with `fastifyGoGoScope` registered).
 * @param options `timeout` in real milliseconds (default 2000).
 * @returns Resolves when no request scope is left.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 * import { assertNoRequestScopes } from "@go-go-scope/adapter-fastify/testing";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * app.get("/", async (request) => (await request.scope.task(() => "ok"))[1]);
 * await app.inject("/");
 * await assertNoRequestScopes(app);
 * await app.close();
 * ```
 */
export async function assertNoRequestScopes<
  S extends RawServerBase,
  Q extends RawRequestDefaultExpression<S>,
  P extends RawReplyDefaultExpression<S>,
  L extends FastifyBaseLogger,
  T extends FastifyTypeProvider,
>(app: FastifyInstance<S, Q, P, L, T>, options?: AssertNoRequestScopesOptions): Promise<void> {
  const timeout = options?.timeout ?? 2000;
  if (typeof timeout !== "number" || !(timeout >= 0) || !Number.isFinite(timeout)) {
    fail(WHAT, "timeout", "a finite number of milliseconds >= 0", timeout, true);
  }
  const target = app as unknown as AppLike;
  const hint = installedController() === undefined
    ? ""
    : "\n(a virtual clock is installed: work that waits on its timers needs advance())";
  const probe = probeOf(target);
  if (probe !== undefined) {
    const alive = () => probe.requests.filter((r) => r.scope !== undefined && !isGone(r.scope));
    if (await pollReal(() => alive().length === 0, timeout)) return;
    const left = alive();
    if (left.length === 0) return;
    throw new AssertionError({
      message: `${left.length} request scope(s) still alive after ${timeout} ms:\n  ` +
        left.map(describeAlive).join("\n  ") + hint,
    });
  }
  const root = target.scope;
  if (root === undefined) {
    throw new TypeError(
      `${WHAT}: the app has no scope (register fastifyGoGoScope) and no probe (probeRequests)`,
    );
  }
  if (await pollReal(() => root.childCount === 0, timeout)) return;
  throw new AssertionError({
    message: `${root.childCount} child scope(s) of "${root.name}" still alive after ` +
      `${timeout} ms:\n${root.debugTree()}${hint}`,
  });
}
