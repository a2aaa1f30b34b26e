/**
 * Every example of the adapter's documentation as one runnable app. Each
 * example keeps its own `register()` call, as written in the docs, inside its
 * own encapsulated Fastify context (sibling contexts each get their own root
 * scope):
 *
 * - quick start (`name: 'my-api'`, `timeout: 30000`): `GET /users/:id` (retry +
 *   timeout; an unknown user is a 404 and is not retried), `GET /dashboard`
 *   (parallel, `concurrency: 3`) and
 *   `GET /stream-events` (a channel fed by an un-awaited producer task,
 *   streamed with `reply.raw.write`);
 * - circuit breaker (`name: 'resilient-api'`): `GET /external-api`
 *   (`?fail=1` or an `x-fail: 1` header makes the stand-in API fail, so five
 *   such requests open the breaker; every answer carries the breaker's state
 *   in `x-circuit-state`, and `GET /external-api/breaker` shows it);
 * - root scope (`name: 'my-api'`): a metrics collector started in
 *   `app.ready()` as a background task, read at `GET /metrics`;
 * - server-sent events (`examples/sse.ts`): the page at `GET /` and its
 *   stream at `GET /events?count=N&interval=MS`.
 *
 * Run it with `deno task start` (listens on 127.0.0.1, port `PORT` or 3000;
 * logs JSON lines), then:
 *
 * ```sh
 * curl http://127.0.0.1:3000/users/1                 # {"id":"1","name":"Ada Lovelace"}
 * curl http://127.0.0.1:3000/users/42                # 404 {"error":"User 42 not found"}, not retried
 * curl http://127.0.0.1:3000/dashboard               # profile, orders, recommendations in parallel
 * curl --max-time 1 http://127.0.0.1:3000/stream-events     # data: {"event":"update","data":0} ...
 * curl -i http://127.0.0.1:3000/external-api         # x-circuit-state: closed
 * curl 'http://127.0.0.1:3000/external-api?fail=1'   # 503; the fifth opens the breaker
 * curl http://127.0.0.1:3000/external-api/breaker    # {"state":"open"}
 * curl http://127.0.0.1:3000/metrics                 # {"scope":"my-api","samples":6}
 * curl http://127.0.0.1:3000/health                  # {"scope":"my-api","inFlight":0}
 * curl -N --max-time 1 'http://127.0.0.1:3000/events?interval=200'
 * ```
 *
 * Leaving `/events` early (curl's `--max-time 1`) stops its producer at once;
 * the log says `"reason":"aborted","msg":"event stream producer stopped"`.
 * Open http://127.0.0.1:3000/ in a browser for the page.
 *
 * @module
 */
import fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
// In an application: from '@go-go-scope/adapter-fastify' and 'go-go-scope'.
import { CircuitBreaker, fastifyGoGoScope } from "../mod.ts";
import { createDataSources, type DataSources, UserNotFoundError } from "./data_sources.ts";
import { sseExample } from "./sse.ts";

/** The quick start, the dashboard and the streaming example. */
function quickStart(sources: DataSources) {
  const { fetchUser, fetchUserProfile, fetchRecentOrders, fetchRecommendations } = sources;

  return async (app: FastifyInstance): Promise<void> => {
    // Register the plugin
    await app.register(fastifyGoGoScope, {
      name: "my-api",
      timeout: 30000, // Optional: default timeout for all requests
    });

    app.get<{ Params: { id: string } }>("/users/:id", async (request, reply) => {
      // Access request-scoped scope
      const [err, user] = await request.scope.task(
        () => fetchUser(request.params.id),
        {
          // Exponential backoff (100, 200, 400 ms), but only for errors that
          // another attempt can fix: a missing user stays missing.
          retry: { max: 3, if: (error) => !(error instanceof UserNotFoundError) },
          timeout: 5000,
        },
      );
      if (err instanceof UserNotFoundError) {
        return reply.code(404).send({ error: err.message });
      }
      if (err) {
        return reply.code(500).send({ error: err.message });
      }
      return user;
    });

    app.get("/dashboard", async (request, reply) => {
      const [err, results] = await request.scope.parallel(
        [
          () => fetchUserProfile(),
          () => fetchRecentOrders(),
          () => fetchRecommendations(),
        ],
        { concurrency: 3 },
      );
      if (err) {
        return reply.code(500).send({ error: err.message });
      }
      return {
        profile: results[0],
        orders: results[1],
        recommendations: results[2],
      };
    });

    app.get("/stream-events", async (request, reply) => {
      const channel = request.scope.channel({ buffer: 100 });
      // Producer task
      request.scope.task(async ({ signal }) => {
        for (let i = 0; i < 100; i++) {
          if (signal.aborted) break;
          await channel.send({ event: "update", data: i });
          await new Promise((r) => setTimeout(r, sources.streamInterval));
        }
        channel.close();
      });
      // Stream to response
      reply.header("Content-Type", "text/event-stream");
      for await (const event of channel) {
        reply.raw.write(`data: ${JSON.stringify(event)}\n\n`);
      }
      reply.raw.end();
    });

    // Not in the docs: how many other requests are in flight in this context
    // (each has a live scope under the root; this one's own is not counted).
    app.get("/health", async () => ({
      scope: app.scope.name,
      inFlight: app.scope.childCount - 1,
    }));
  };
}

/** The circuit breaker example. */
function resilientApi(sources: DataSources) {
  const { fetchExternalAPI } = sources;

  return async (app: FastifyInstance): Promise<void> => {
    const breaker = new CircuitBreaker({
      failureThreshold: 5,
      resetTimeout: 30000,
    });
    await app.register(fastifyGoGoScope, {
      name: "resilient-api",
      circuitBreaker: breaker,
    });

    app.get<{ Querystring: { fail?: string } }>("/external-api", async (request, reply) => {
      // Not in the docs: `?fail=1` (or `x-fail: 1`) stands for an outage of
      // the API, so the breaker can be tripped from outside.
      const fail = request.query.fail === "1" || request.headers["x-fail"] === "1";
      // Automatically uses circuit breaker
      const [err, data] = await request.scope.task(
        () => fetchExternalAPI({ fail }),
      );
      reply.header("x-circuit-state", breaker.state);
      if (err) {
        return reply.code(503).send({ error: "Service unavailable" });
      }
      return data;
    });

    // Not in the docs: lets you watch the breaker from outside.
    app.get("/external-api/breaker", async () => ({ state: breaker.state }));
  };
}

/** The root scope example: a background job for the app's lifetime. */
function backgroundJobs(sources: DataSources) {
  // The stand-in collector runs until the root scope (the app) ends.
  let app!: FastifyInstance;
  const startMetricsCollector = () => sources.startMetricsCollector(app.scope.signal);

  return async (instance: FastifyInstance): Promise<void> => {
    app = instance;
    await app.register(fastifyGoGoScope, { name: "my-api" });
    // Access root scope for application-level tasks
    app.ready(() => {
      app.scope.task(async () => {
        // Start background job that lives for app lifetime
        await startMetricsCollector();
      });
    });

    app.get("/metrics", async () => ({
      scope: app.scope.name,
      samples: sources.metricsSamples,
    }));
  };
}

/**
 * Builds the example app without listening (tests use `app.inject()` or
 * listen on port 0 themselves).
 *
 * @param sources The stand-in data sources (fresh ones by default).
 * @param options Fastify's own server options.
 * @returns The app, not yet ready.
 *
 * @example
 * ```ts
 * import { buildApp } from "./server.ts";
 * import { createDataSources } from "./data_sources.ts";
 *
 * const app = await buildApp(createDataSources({ latency: 0 }));
 * const response = await app.inject("/users/1");
 * console.log(response.json()); // { id: "1", name: "Ada Lovelace" }
 * await app.close();
 * ```
 */
export async function buildApp(
  sources: DataSources = createDataSources(),
  options: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = fastify(options);
  // Browsers ask for one; an empty answer keeps the log free of 404s.
  app.get("/favicon.ico", async (_request, reply) => reply.code(204).send());
  await app.register(quickStart(sources));
  await app.register(resilientApi(sources));
  await app.register(backgroundJobs(sources));
  await app.register(sseExample);
  return app;
}

if (import.meta.main) {
  const app = await buildApp(createDataSources(), { logger: true });
  const port = Number(Deno.env.get("PORT") ?? 3000);
  await app.listen({ host: "127.0.0.1", port });
  const shutdown = () => {
    app.close().then(() => Deno.exit(0), () => Deno.exit(1));
  };
  Deno.addSignalListener("SIGINT", shutdown);
  Deno.addSignalListener("SIGTERM", shutdown);
}
