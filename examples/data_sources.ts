/**
 * Stand-in data sources for `examples/server.ts`: a user store, a dashboard's
 * three services, an external API and a metrics collector. Each can be made
 * slow or failing at run time, so the examples (and their tests) can show
 * retries, timeouts, fail-fast parallelism and an opening circuit breaker.
 *
 * @module
 */

/** A user record. */
export interface User {
  id: string;
  name: string;
}

/** Knobs of one stand-in service; change them at any time. */
export interface ServiceBehaviour {
  /** Milliseconds every call takes. */
  latency: number;
  /** The next this-many calls fail (counts down). */
  failNext: number;
  /** Every call fails while true. */
  down: boolean;
  /** Calls made so far (observability for tests and logs). */
  calls: number;
}

/** The stand-ins and their knobs. */
export interface DataSources {
  users: ServiceBehaviour;
  profile: ServiceBehaviour;
  orders: ServiceBehaviour;
  recommendations: ServiceBehaviour;
  external: ServiceBehaviour;
  /** Milliseconds between two events of the streaming example. */
  streamInterval: number;
  /** Milliseconds between two metrics samples. */
  metricsInterval: number;
  /** Samples the metrics collector has taken. */
  metricsSamples: number;
  fetchUser(id: string): Promise<User>;
  fetchUserProfile(): Promise<{ name: string; plan: string }>;
  fetchRecentOrders(): Promise<Array<{ id: number; total: number }>>;
  fetchRecommendations(): Promise<string[]>;
  /** `fail: true` makes this one call fail, as an outage would (the breaker demo's switch). */
  fetchExternalAPI(options?: { fail?: boolean }): Promise<{ source: string; value: number }>;
  /** Samples until `signal` aborts (the app's root scope ends). */
  startMetricsCollector(signal: AbortSignal): Promise<void>;
}

/** Initial knobs; every field is optional. */
export interface DataSourceOptions {
  /** Default latency of every service, in milliseconds. @default 5 */
  latency?: number;
  /** @default 100 */
  streamInterval?: number;
  /** @default 1000 */
  metricsInterval?: number;
}

const USERS: Record<string, User> = {
  "1": { id: "1", name: "Ada Lovelace" },
  "2": { id: "2", name: "Grace Hopper" },
};

function behaviour(latency: number): ServiceBehaviour {
  return { latency, failNext: 0, down: false, calls: 0 };
}

function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

async function call<T>(
  service: ServiceBehaviour,
  label: string,
  value: () => T,
  fail = false,
): Promise<T> {
  service.calls++;
  await delay(service.latency);
  if (service.down) throw new Error(`${label} is down`);
  if (fail) throw new Error(`${label} failed (asked for with ?fail=1)`);
  if (service.failNext > 0) {
    service.failNext--;
    throw new Error(`${label} failed`);
  }
  return value();
}

/** Not found in the user store. */
export class UserNotFoundError extends Error {
  /** HTTP status. */
  readonly statusCode: 404 = 404;
  /** @param id The missing user's id. */
  constructor(id: string) {
    super(`User ${id} not found`);
    this.name = "UserNotFoundError";
  }
}

/**
 * Builds a fresh set of stand-ins.
 *
 * @example
 * ```ts
 * import { createDataSources } from "./data_sources.ts";
 *
 * const sources = createDataSources({ latency: 0 });
 * sources.users.failNext = 1;
 * await sources.fetchUser("1").catch((e) => console.log(e.message)); // user store failed
 * console.log(await sources.fetchUser("1")); // { id: "1", name: "Ada Lovelace" }
 * ```
 */
export function createDataSources(options: DataSourceOptions = {}): DataSources {
  const { latency = 5, streamInterval = 100, metricsInterval = 1000 } = options;
  const sources: DataSources = {
    users: behaviour(latency),
    profile: behaviour(latency),
    orders: behaviour(latency),
    recommendations: behaviour(latency),
    external: behaviour(latency),
    streamInterval,
    metricsInterval,
    metricsSamples: 0,
    fetchUser: (id) =>
      call(sources.users, "user store", () => {
        const user = USERS[id];
        if (user === undefined) throw new UserNotFoundError(id);
        return user;
      }),
    fetchUserProfile: () =>
      call(sources.profile, "profile service", () => ({ name: "Ada", plan: "pro" })),
    fetchRecentOrders: () =>
      call(sources.orders, "order service", () => [{ id: 1, total: 42 }, { id: 2, total: 7 }]),
    fetchRecommendations: () =>
      call(sources.recommendations, "recommendation service", () => ["scopes", "channels"]),
    fetchExternalAPI: ({ fail = false } = {}) =>
      call(sources.external, "external API", () => ({ source: "external", value: 42 }), fail),
    startMetricsCollector: async (signal) => {
      while (!signal.aborted) {
        sources.metricsSamples++;
        await delay(sources.metricsInterval, signal);
      }
    },
  };
  return sources;
}
