/**
 * `createMockScope()`: a real scope that records the tasks started on it,
 * can be aborted by hand, and provides mock services that its tasks receive.
 *
 * @module
 */
import { Scope, type ServiceMap, type TaskFn, type TaskOptions } from "../core/mod.ts";

/**
 * Options of {@linkcode createMockScope} (go-go-scope's).
 *
 * @example
 * ```ts
 * import { createMockScope, type MockScopeOptions } from "@go-go-scope/adapter-fastify/testing";
 *
 * const options: MockScopeOptions = { services: { greeting: "hello" } };
 * await using s = createMockScope(options);
 * const [, value] = await s.task(({ services }) => services.greeting);
 * console.log(value); // hello
 * ```
 */
export interface MockScopeOptions<S extends ServiceMap = ServiceMap> {
  /** Accepted for go-go-scope compatibility; no effect (as in go-go-scope). Install a virtual clock instead. */
  autoAdvanceTimers?: boolean;
  /** Accepted for go-go-scope compatibility; no effect (as in go-go-scope). */
  deterministic?: boolean;
  /** Services provided to the scope: tasks get them as `ctx.services`, `scope.use(key)` returns them. */
  services?: S;
  /** Services provided over `services` (same keys replace them). */
  overrides?: Partial<S> & Record<string, unknown>;
  /** Start aborted. */
  aborted?: boolean;
  /** The abort reason when `aborted`. @default an `AbortError` */
  abortReason?: unknown;
}

/**
 * A task started on a {@linkcode MockScope}: its function and options.
 *
 * @example
 * ```ts
 * import { createMockScope, type TaskCall } from "@go-go-scope/adapter-fastify/testing";
 *
 * await using s = createMockScope();
 * await s.task(() => 1, { retry: "fixed" });
 * const call: TaskCall | undefined = s.taskCalls[0];
 * console.log(call?.options?.retry); // fixed
 * ```
 */
export interface TaskCall<S extends ServiceMap = ServiceMap> {
  /** The task function. */
  fn: TaskFn<unknown, S>;
  /** The options it was started with. */
  options?: TaskOptions | undefined;
}

/**
 * A real {@linkcode Scope} with go-go-scope's mock extras.
 *
 * @example
 * ```ts
 * import { createMockScope, type MockScope } from "@go-go-scope/adapter-fastify/testing";
 *
 * await using s: MockScope<{ db: string }> = createMockScope({ services: { db: "memory" } });
 * s.abort(new Error("stop"));
 * const [err] = await s.task(() => "never runs");
 * console.log(err?.message, s.getTaskCalls().length); // stop 1
 * ```
 */
export interface MockScope<S extends ServiceMap = ServiceMap> extends Scope<S> {
  /** The tasks started with `task()`, in order. */
  taskCalls: TaskCall<S>[];
  /** The options the mock scope was created with. */
  options: MockScopeOptions<S>;
  /** Cancels the scope with `reason` (`scope.cancel`). */
  abort: (reason?: unknown) => void;
  /** The recorded task calls. */
  getTaskCalls: () => TaskCall<S>[];
  /** Forgets the recorded task calls. */
  clearTaskCalls: () => void;
  /** Provides (or replaces) a service; tasks started afterwards see it. Returns the scope. */
  mockService: <K extends string, T>(key: K, value: T) => MockScope<S & Record<K, T>>;
}

/**
 * Creates a {@linkcode MockScope} named "mock-scope". Unlike go-go-scope's,
 * whose services are only set as properties of the scope (so
 * `ctx.services` in a task never sees them), the services here are provided
 * to the scope: tasks receive them as `ctx.services` and `scope.use(key)`
 * returns them. They are still set as properties too (where the scope has no
 * member of that name), so go-go-scope tests that read `s.db` keep working.
 * `abort()` is `scope.cancel()`.
 *
 * @param options Services, overrides, initial abort.
 * @returns The mock scope (dispose it like any scope).
 *
 * @example
 * ```ts
 * import { createMockScope, createSpy } from "@go-go-scope/adapter-fastify/testing";
 *
 * const query = createSpy<[string], Promise<string[]>>().mockReturnValue(Promise.resolve([]));
 * await using s = createMockScope();
 * s.mockService("db", { query });
 * const withDb = s.mockService("db", { query });
 * await withDb.task(({ services }) => services.db.query("SELECT 1"), { retry: "fixed" });
 * console.log(query.wasCalledWith("SELECT 1"), s.taskCalls.length); // true 1
 * ```
 */
export function createMockScope<S extends ServiceMap = ServiceMap>(
  options: MockScopeOptions<S> = {},
): MockScope<S> {
  const base = new Scope({ name: "mock-scope" }) as Scope<S>;
  const mock = base as MockScope<S>;
  const ownProperties = new Set<string>();
  const original = base.task;
  mock.taskCalls = [];
  mock.options = options;
  Object.defineProperty(mock, "task", {
    configurable: true,
    writable: true,
    value: function task(fn: TaskFn<unknown, S>, taskOptions?: TaskOptions) {
      mock.taskCalls.push({ fn, options: taskOptions });
      return original.call(base, fn, taskOptions);
    },
  });
  mock.abort = (reason?: unknown) => base.cancel(reason);
  mock.getTaskCalls = () => mock.taskCalls;
  mock.clearTaskCalls = () => {
    mock.taskCalls = [];
  };
  const services = base as unknown as Scope<ServiceMap>;
  const setService = (key: string, value: unknown) => {
    const factory = () => value; // a function value is the service, not its factory
    if (services.has(key)) services.override(key, factory);
    else services.provide(key, factory);
    if (ownProperties.has(key) || !(key in base)) {
      ownProperties.add(key);
      (mock as unknown as Record<string, unknown>)[key] = value;
    }
  };
  mock.mockService = <K extends string, T>(key: K, value: T): MockScope<S & Record<K, T>> => {
    setService(key, value);
    return mock as unknown as MockScope<S & Record<K, T>>;
  };
  for (const [key, value] of Object.entries(options.services ?? {})) setService(key, value);
  for (const [key, value] of Object.entries(options.overrides ?? {})) setService(key, value);
  if (options.aborted) base.cancel(options.abortReason);
  return mock;
}
