/**
 * `leaveRequest(app, …)`: sends a request to the app over a real socket on
 * 127.0.0.1 (HTTP/1.1, or HTTP/2 for an `http2: true` app) and makes the
 * client leave at a chosen moment: when the request enters a lifecycle phase,
 * once it started a task of a given name, or some milliseconds after it
 * arrived. Returns what the test asserts on: the request scope, its abort
 * reason, the phase the client left in, and the tasks with how they ended.
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
import { type ClientResponse, send } from "./_client.ts";
import { Departure, describeMoment, describeRequest, type LeaveAt } from "./departure.ts";
import { pollReal, withinReal } from "../_real_timers.ts";
import { fail } from "../_validate.ts";
import {
  ensureProbe,
  type LifecyclePhase,
  PROBE_HEADER,
  type RequestRecord,
  type TaskRecord,
} from "./request_probe.ts";
import { installedController } from "../clock/time_controller.ts";

/**
 * Options of {@linkcode leaveRequest}.
 *
 * @example
 * ```ts
 * import type { LeaveRequestOptions } from "@go-go-scope/adapter-fastify/testing";
 *
 * const options: LeaveRequestOptions = {
 *   method: "POST",
 *   url: "/orders",
 *   body: { item: 1 },
 *   leave: { task: "charge" },
 * };
 * console.log(options.leave); // { task: "charge" }
 * ```
 */
export interface LeaveRequestOptions {
  /** The path and query, e.g. `/users/1?full=true`. */
  url: string;
  /** The method. @default `"GET"`, or `"POST"` with a body */
  method?: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /**
   * The body: a string or bytes as they are; anything else as JSON (with
   * `content-type: application/json` unless a content type is given).
   */
  body?: unknown;
  /** When the client leaves. */
  leave: LeaveAt;
  /**
   * Real milliseconds to wait, at most, for each step: the moment to come, the
   * server to see the client go, the scope to be disposed.
   * @default 5000
   */
  timeout?: number;
  /** Resolve only once the request scope is fully disposed. @default true */
  waitForDisposal?: boolean;
}

/**
 * What {@linkcode leaveRequest} returns.
 *
 * @example
 * ```ts
 * import type { LeftRequest } from "@go-go-scope/adapter-fastify/testing";
 *
 * function summary(left: LeftRequest): string {
 *   return `${left.phase}: ${left.tasks.map((t) => `${t.name} ${t.outcome}`).join(", ")}`;
 * }
 * console.log(typeof summary); // function
 * ```
 */
export interface LeftRequest {
  /** The request as the probe recorded it (it keeps updating). */
  readonly request: RequestRecord;
  /** The request scope; `undefined` when the plugin is not registered. */
  readonly scope: Scope | undefined;
  /** The scope's abort reason once the server saw the client go (`ClientDisconnectedError` with the plugin). */
  readonly reason: unknown;
  /** The phase the request was in when the client left. */
  readonly phase: LifecyclePhase | undefined;
  /** The tasks the request started on its scope, with how they ended. */
  readonly tasks: readonly TaskRecord[];
  /** The scope was fully disposed (detached from the app's scope); false with `waitForDisposal: false`. */
  readonly disposed: boolean;
}

const WHAT = "Cannot leave a request";
const PHASES: readonly string[] = [
  "onRequest",
  "preParsing",
  "preValidation",
  "preHandler",
  "handler",
  "preSerialization",
  "onSend",
];
let tokens = 0;

async function portOf(app: AppLike): Promise<number> {
  if (!app.server.listening) await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (typeof address !== "object" || address === null || !("port" in address)) {
    throw new TypeError(`${WHAT}: the app does not listen on a TCP port (${inspect(address)})`);
  }
  return (address as { port: number }).port;
}

function bodyOf(
  options: LeaveRequestOptions,
  headers: Record<string, string>,
): string | Uint8Array | undefined {
  const body = options.body;
  if (body === undefined || typeof body === "string" || body instanceof Uint8Array) return body;
  if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["content-type"] = "application/json";
  }
  return JSON.stringify(body);
}

function checkOptions(options: LeaveRequestOptions): number {
  if (typeof options !== "object" || options === null) {
    fail(WHAT, "options", "an object", options, false);
  }
  if (typeof options.url !== "string" || !options.url.startsWith("/")) {
    fail(WHAT, "url", "a path starting with /", options.url, typeof options.url === "string");
  }
  const at = options.leave as Partial<Record<"phase" | "task" | "afterMs", unknown>> | undefined;
  const accepted = `{ phase: ${PHASES.map((p) => `"${p}"`).join(" | ")} }, { task: string } ` +
    `or { afterMs: number >= 0 }`;
  if (typeof at !== "object" || at === null) fail(WHAT, "leave", accepted, at, false);
  const keys = Object.keys(at).filter((k) => at[k as keyof typeof at] !== undefined);
  const valid = keys.length === 1 && (
    (keys[0] === "phase" && PHASES.includes(at.phase as string)) ||
    (keys[0] === "task" && typeof at.task === "string") ||
    (keys[0] === "afterMs" && typeof at.afterMs === "number" && at.afterMs >= 0 &&
      Number.isFinite(at.afterMs))
  );
  if (!valid) fail(WHAT, "leave", accepted, at, true);
  const timeout = options.timeout ?? 5000;
  if (typeof timeout !== "number" || !(timeout > 0) || !Number.isFinite(timeout)) {
    fail(WHAT, "timeout", "a finite number of milliseconds > 0", timeout, true);
  }
  return timeout;
}

/** Waits (real time) until `scope` is fully disposed; resolves to whether it was. */
async function disposed(scope: Scope, timeout: number): Promise<boolean> {
  const started = await pollReal(() => scope.isDisposed, timeout);
  if (!started) return false;
  // Disposal has begun: this returns its promise (it does not start another).
  const disposal = scope[Symbol.asyncDispose]().then(() => true, () => true);
  return await withinReal(disposal, timeout, () => new Error("late")).catch(() => false);
}

/**
 * Sends one request to `app` over a real socket on 127.0.0.1 and makes the
 * client leave at the moment `leave` names. The app gets a probe
 * ({@linkcode probeRequests}) if it has none, so call this (or
 * `probeRequests(app)`) before the app is ready; the app is made to listen
 * on 127.0.0.1 (a random port) if it does not yet. HTTP/2 apps
 * (`http2: true`, cleartext) are reached over HTTP/2; HTTPS apps are not
 * supported. The request carries an `x-go-go-scope-testing` header (the
 * probe's way to find it).
 *
 * It resolves once the server saw the client go (the request scope is
 * aborted) and, unless `waitForDisposal: false`, the scope is fully disposed.
 * It fails with an `AssertionError` when the response completes before the
 * moment comes, or a step takes longer than `timeout` real milliseconds.
 * With a virtual clock installed it works the same; a moment given in
 * `afterMs` is virtual time, and the clock is advanced by it once the request
 * arrived.
 *
 * @param app The app under test (with `fastifyGoGoScope` registered, for a scope).
 * @param options The request and the moment to leave.
 * @returns What happened.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { ClientDisconnectedError, fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 * import { leaveRequest } from "@go-go-scope/adapter-fastify/testing";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * app.get("/report", async (request) => {
 *   const [err, rows] = await request.scope.task(
 *     ({ signal }) => new Promise((resolve, reject) => {
 *       const timer = setTimeout(() => resolve(["row"]), 10_000);
 *       signal.addEventListener("abort", () => (clearTimeout(timer), reject(signal.reason)));
 *     }),
 *     { name: "query" },
 *   );
 *   if (err) throw err;
 *   return rows;
 * });
 * try {
 *   const left = await leaveRequest(app, { url: "/report", leave: { task: "query" } });
 *   console.log(left.reason instanceof ClientDisconnectedError, left.tasks[0]?.outcome);
 *   // true cancelled
 * } finally {
 *   await app.close();
 * }
 * ```
 */
export async function leaveRequest<
  S extends RawServerBase,
  Q extends RawRequestDefaultExpression<S>,
  P extends RawReplyDefaultExpression<S>,
  L extends FastifyBaseLogger,
  T extends FastifyTypeProvider,
>(app: FastifyInstance<S, Q, P, L, T>, options: LeaveRequestOptions): Promise<LeftRequest> {
  const timeout = checkOptions(options);
  const target = app as unknown as AppLike;
  if (target.initialConfig.https) {
    throw new TypeError(`${WHAT}: HTTPS apps are not supported (test the app over plain HTTP)`);
  }
  const probe = ensureProbe(target);
  const port = await portOf(target);
  const token = `leave-${++tokens}`;
  const headers: Record<string, string> = { ...options.headers };
  const body = bodyOf(options, headers);
  headers[PROBE_HEADER] = token;
  const client = send({
    port,
    http2: target.initialConfig.http2 === true,
    method: options.method ?? (body === undefined ? "GET" : "POST"),
    url: options.url,
    headers,
    body,
  });
  const departure = new Departure(options.leave, client, timeout);
  probe.expect(token, departure);
  try {
    const moment = describeMoment(options.leave);
    const hint = installedController() === undefined
      ? ""
      : "; a virtual clock is installed: does the moment wait on its time (advance it)?";
    const first = await withinReal(
      Promise.race([
        departure.gone.then(() => undefined),
        client.response,
      ]),
      timeout,
      () =>
        new AssertionError({
          message: `${WHAT}: the moment (${moment}) did not come within ${timeout} ms ` +
            `(${describeRequest(departure.record)})${hint}`,
        }),
    );
    if (first !== undefined) {
      const response: ClientResponse = first;
      throw new AssertionError({
        message: `${WHAT}: the client was to leave ${moment}, but the response completed ` +
          `first (status ${response.status}; ${describeRequest(departure.record)})`,
      });
    }
    const record = departure.record!;
    const scope = record.scope;
    const reason = scope?.abortReason;
    const wait = scope !== undefined && options.waitForDisposal !== false;
    const done = wait && await disposed(scope, timeout);
    if (wait && !done) {
      throw new AssertionError({
        message: `${WHAT}: the client left (${moment}) but the request scope "${scope.name}" ` +
          `was not disposed within ${timeout} ms (${describeRequest(record)})${hint}`,
      });
    }
    return {
      request: record,
      scope,
      reason,
      phase: departure.phase,
      tasks: record.tasks,
      disposed: done,
    };
  } finally {
    departure.cancel();
    probe.forget(token);
    client.close();
  }
}
