/**
 * `probeRequests(app)`: hooks added to an app under test that record, for
 * every request, its request scope, the lifecycle phases it went through and
 * the tasks it started on `request.scope`, with how each ended. The client
 * helpers (`leaveRequest`, `assertNoRequestScopes`) build on it.
 *
 * @module
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
} from "fastify";
import type { Scope, Task, TaskFn, TaskOptions } from "../../core/mod.ts";
import type { AppLike, RequestLike } from "./_app.ts";

/**
 * The phases of a request's lifecycle the probe records, in order. `handler`
 * starts right before the handler runs (after every `preHandler` hook) on
 * routes registered after the probe was added; on routes registered before,
 * when the probe's own `preHandler` hook has run. Fastify runs no
 * `onResponse` for an HTTP/1.1 client that left (it does for a reset HTTP/2
 * stream).
 */
export type LifecyclePhase =
  | "onRequest"
  | "preParsing"
  | "preValidation"
  | "preHandler"
  | "handler"
  | "preSerialization"
  | "onSend"
  | "onResponse";

/**
 * How a recorded task ended: `cancelled` when its error is the request
 * scope's abort reason (the client left, the deadline passed, the app
 * closed), `rejected` for any other error.
 */
export type TaskOutcome = "pending" | "fulfilled" | "rejected" | "cancelled";

/**
 * A task started with `request.scope.task()`, as the probe saw it.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 * import { probeRequests, type TaskRecord } from "@go-go-scope/adapter-fastify/testing";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * const probe = probeRequests(app);
 * app.get("/", async (request) => (await request.scope.task(() => 42, { name: "answer" }))[1]);
 * await app.inject("/");
 * const task: TaskRecord | undefined = probe.requests[0]?.tasks[0];
 * console.log(task?.name, task?.outcome, task?.value); // answer fulfilled 42
 * await app.close();
 * ```
 */
export interface TaskRecord {
  /** The task's name (its `name` option, or `task-<id>`). */
  readonly name: string;
  /** The task itself (await it for its Result). */
  readonly task: Task<unknown, Error>;
  /** The options it was started with. */
  readonly options: TaskOptions | undefined;
  /** The phase the request was in when the task started. */
  readonly phase: LifecyclePhase | undefined;
  /** How it ended so far. */
  readonly outcome: TaskOutcome;
  /** Its value, once fulfilled. */
  readonly value: unknown;
  /** Its error, once rejected or cancelled. */
  readonly error: Error | undefined;
}

/**
 * One request as the probe saw it.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 * import { probeRequests, type RequestRecord } from "@go-go-scope/adapter-fastify/testing";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * const probe = probeRequests(app);
 * app.get("/", async () => "ok");
 * await app.inject("/");
 * const seen: RequestRecord | undefined = probe.requests[0];
 * console.log(seen?.url, seen?.phases, seen?.scope?.isDisposed);
 * // / [ "onRequest", "preParsing", "preValidation", "preHandler", "handler", "onSend", "onResponse" ] true
 * await app.close();
 * ```
 */
export interface RequestRecord {
  /** Fastify's `request.id`. */
  readonly id: string;
  /** The method. */
  readonly method: string;
  /** The URL as received. */
  readonly url: string;
  /** The request scope (created by the probe's `onRequest` hook); `undefined` without the plugin. */
  readonly scope: Scope | undefined;
  /** The phases the request entered, in order. */
  readonly phases: readonly LifecyclePhase[];
  /** The phase it is in (the last one entered). */
  readonly phase: LifecyclePhase | undefined;
  /** The tasks it started with `request.scope.task()`, in order. */
  readonly tasks: readonly TaskRecord[];
}

/**
 * What {@linkcode probeRequests} returns: the record of every request since
 * the probe was added (or last cleared).
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { probeRequests, type RequestProbe } from "@go-go-scope/adapter-fastify/testing";
 *
 * const app = Fastify();
 * const probe: RequestProbe = probeRequests(app);
 * app.get("/", async () => "ok");
 * await app.inject("/");
 * console.log(probe.requests.length, probe.requests[0]?.scope); // 1 undefined (no plugin)
 * probe.clear();
 * await app.close();
 * ```
 */
export interface RequestProbe {
  /** Every request seen, in arrival order. */
  readonly requests: readonly RequestRecord[];
  /** Forgets the requests seen so far. */
  clear(): void;
}

/** @internal What leaveRequest() plans for one request, called back by the probe. */
export interface Expectation {
  /** The request reached the probe's `onRequest` hook. */
  arrived(record: ProbedRequest, reply: FastifyReply): void;
  /** The request entered `phase`; a promise stalls the phase until it settles. */
  entered(record: ProbedRequest, phase: LifecyclePhase): Promise<void> | undefined;
  /** The request started a task. */
  started(record: ProbedRequest, task: TaskRecord): void;
}

/** The part of Fastify's route options the probe's `onRoute` hook touches. */
interface RouteLike {
  config?: object;
  preHandler?: unknown;
}

/** Marks the config of a route that has the probe's route-level `preHandler` hook. */
const HANDLER_HOOK: unique symbol = Symbol("go-go-scope.testing.handlerHook");

/** The header that tells the probe which expectation a request belongs to. */
export const PROBE_HEADER = "x-go-go-scope-testing";

class ProbedTask implements TaskRecord {
  outcome: TaskOutcome = "pending";
  value: unknown = undefined;
  error: Error | undefined = undefined;
  constructor(
    readonly task: Task<unknown, Error>,
    readonly options: TaskOptions | undefined,
    readonly phase: LifecyclePhase | undefined,
    scope: Scope,
  ) {
    task.then(([error, value]) => {
      if (error === undefined) {
        this.outcome = "fulfilled";
        this.value = value;
        return;
      }
      const reason = scope.abortReason;
      const cancelled = scope.isAborted &&
        (error === reason || (error as { cause?: unknown }).cause === reason);
      this.outcome = cancelled ? "cancelled" : "rejected";
      this.error = error;
    });
  }
  get name(): string {
    return this.task.name;
  }
}

/** @internal A request as recorded (mutable inside the kit). */
export class ProbedRequest implements RequestRecord {
  readonly phases: LifecyclePhase[] = [];
  readonly tasks: ProbedTask[] = [];
  readonly scope: Scope | undefined;
  expectation: Expectation | undefined;
  constructor(readonly request: RequestLike, readonly reply: FastifyReply) {
    // Reading request.scope creates it (the plugin creates it lazily), so that
    // it is watched from the start and its tasks can be recorded.
    this.scope = request.scope;
  }
  get id(): string {
    return this.request.id;
  }
  get method(): string {
    return this.request.method;
  }
  get url(): string {
    return this.request.url;
  }
  get phase(): LifecyclePhase | undefined {
    return this.phases.at(-1);
  }
}

class Probe implements RequestProbe {
  readonly requests: ProbedRequest[] = [];
  readonly #expected = new Map<string, Expectation>();
  readonly #byRequest = new WeakMap<object, ProbedRequest>();

  constructor(app: AppLike) {
    app.addHook("onRequest", (request, reply) => {
      const record = new ProbedRequest(request as RequestLike, reply);
      this.requests.push(record);
      this.#byRequest.set(request, record);
      if (record.scope !== undefined) this.#recordTasks(record, record.scope);
      const token = request.headers[PROBE_HEADER];
      const expectation = typeof token === "string" ? this.#expected.get(token) : undefined;
      if (expectation !== undefined) {
        record.expectation = expectation;
        expectation.arrived(record, reply);
      }
      return this.#enter(record, "onRequest");
    });
    const phase = (name: LifecyclePhase) => (request: RequestLike) =>
      this.#enter(this.#find(request), name);
    const passing =
      (name: LifecyclePhase) =>
      async (request: RequestLike, _reply: FastifyReply, payload: unknown) => {
        await this.#enter(this.#find(request), name);
        return payload;
      };
    app.addHook("preParsing", passing("preParsing"));
    app.addHook("preValidation", phase("preValidation"));
    // `handler` is entered by a route-level preHandler hook appended to every route
    // registered from now on: route hooks run last, right before the handler.
    const handlerStarts = async (request: RequestLike) =>
      this.#enter(this.#find(request), "handler");
    app.addHook("onRoute", (route: RouteLike) => {
      // Fastify copies the route's config into request.routeOptions.config.
      route.config = { ...route.config, [HANDLER_HOOK]: true };
      const hooks = route.preHandler;
      route.preHandler = hooks === undefined
        ? [handlerStarts]
        : [...(Array.isArray(hooks) ? hooks : [hooks]), handlerStarts];
    });
    app.addHook("preHandler", async (request: RequestLike) => {
      const record = this.#find(request);
      await this.#enter(record, "preHandler");
      // A route registered before the probe has no such hook: its handler follows
      // this hook (and any preHandler hook added after the probe).
      const config = request.routeOptions.config as { [HANDLER_HOOK]?: true };
      if (config[HANDLER_HOOK] !== true) await this.#enter(record, "handler");
    });
    app.addHook("preSerialization", passing("preSerialization"));
    app.addHook("onSend", passing("onSend"));
    app.addHook("onResponse", phase("onResponse"));
  }

  clear(): void {
    this.requests.length = 0;
  }

  /** @internal Routes the request carrying `token` to `expectation` until `forget(token)`. */
  expect(token: string, expectation: Expectation): void {
    this.#expected.set(token, expectation);
  }

  /** @internal */
  forget(token: string): void {
    this.#expected.delete(token);
  }

  #find(request: RequestLike): ProbedRequest | undefined {
    return this.#byRequest.get(request);
  }

  async #enter(record: ProbedRequest | undefined, phase: LifecyclePhase): Promise<void> {
    if (record === undefined) return; // a request that skipped onRequest
    record.phases.push(phase);
    await record.expectation?.entered(record, phase);
  }

  /** Records every task started with `scope.task()` (an own property shadowing the method). */
  #recordTasks(record: ProbedRequest, scope: Scope): void {
    const task = scope.task;
    Object.defineProperty(scope, "task", {
      configurable: true,
      writable: true,
      value: function recordedTask(
        this: Scope,
        fn: TaskFn<unknown>,
        options?: TaskOptions,
      ): Task<unknown, Error> {
        const started = task.call(this, fn, options) as Task<unknown, Error>;
        const entry = new ProbedTask(started, options, record.phase, scope);
        record.tasks.push(entry);
        record.expectation?.started(record, entry);
        return started;
      },
    });
  }
}

const probes = new WeakMap<object, Probe>();

/** @internal The probe added to `app`, if any. */
export function probeOf(app: object): Probe | undefined {
  return probes.get(app);
}

/** @internal The probe of `app`, added now if it has none. */
export function ensureProbe(app: AppLike): Probe {
  let probe = probes.get(app);
  if (probe === undefined) {
    try {
      probe = new Probe(app);
    } catch (error) {
      throw new Error(
        "Cannot probe the app's requests: hooks can no longer be added (the app is ready or " +
          "listening); call probeRequests(app) before app.ready(), app.listen() or app.inject()",
        { cause: error },
      );
    }
    probes.set(app, probe);
  }
  return probe;
}

/**
 * Adds the probe's hooks to `app` (once: later calls return the same probe)
 * and returns the probe. Call it before the app is ready (`ready()`,
 * `listen()` or the first `inject()`), after registering the plugin. Its
 * `onRequest` hook reads `request.scope`, so every request gets its scope
 * from the start (the plugin otherwise creates it on first read), and shadows
 * the scope's `task` method to record tasks (those `parallel()`, `race()` and
 * child scopes start are not recorded). Its hooks run where they are added
 * among the app's other root hooks.
 *
 * @param app The app under test (HTTP/1 or HTTP/2).
 * @returns The probe.
 * @throws {Error} When the app is already ready.
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
 * import { probeRequests } from "@go-go-scope/adapter-fastify/testing";
 *
 * const app = Fastify();
 * await app.register(fastifyGoGoScope);
 * const probe = probeRequests(app);
 * app.get("/", async (request) => {
 *   const [err] = await request.scope.task(() => Promise.reject(new Error("down")), {
 *     name: "fetch",
 *   });
 *   return err ? "fallback" : "ok";
 * });
 * console.log((await app.inject("/")).body); // fallback
 * const [task] = probe.requests[0]?.tasks ?? [];
 * console.log(task?.name, task?.outcome, task?.error?.message); // fetch rejected down
 * await app.close();
 * ```
 */
export function probeRequests<
  S extends RawServerBase,
  Q extends RawRequestDefaultExpression<S>,
  P extends RawReplyDefaultExpression<S>,
  L extends FastifyBaseLogger,
  T extends FastifyTypeProvider,
>(app: FastifyInstance<S, Q, P, L, T>): RequestProbe {
  return ensureProbe(app as unknown as AppLike);
}
