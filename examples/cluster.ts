/**
 * Three replicas of one app behind no load balancer, sharing one Redis: the
 * circuit breaker guarding their (fake) inventory service opens in all three
 * as soon as the failures seen by any of them reach the threshold, and an
 * order posted twice with the same `Idempotency-Key` (to two replicas) is
 * placed once.
 *
 * ```sh
 * redis-server --port 6390 --save "" &                 # any Redis
 * deno run -A examples/cluster.ts --redis redis://127.0.0.1:6390
 * # it prints three URLs; then, against the first one:
 * curl -X POST "$A/dependency?down=1"                   # its inventory service fails
 * for i in 1 2 3; do curl "$A/inventory"; done           # three failures: the breaker opens
 * curl "$B/breaker"; curl "$C/inventory"                 # open in B and C too, C fails fast (503)
 * ```
 *
 * `--replica` runs one replica (what the launcher spawns, and what the tests
 * in tests/redis/cluster_test.ts start three times).
 *
 * @module
 */
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import fastify, { type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { CircuitBreaker, fastifyGoGoScope } from "../mod.ts";
import { RedisAdapter } from "../src/redis/mod.ts";

/** What {@linkcode buildReplica} needs. */
export interface ReplicaOptions {
  /** A Redis client (the replica never closes it). */
  redis: Redis;
  /** Shown in responses and logs. */
  name: string;
  /** Namespace of this cluster's keys. @default "cluster-demo:" */
  keyPrefix?: string;
  /** Breaker settings (the tests shorten the reset timeout). */
  failureThreshold?: number;
  resetTimeout?: number;
}

/** One replica: the plugin with a Redis-backed breaker and idempotency, and four routes. */
export async function buildReplica(options: ReplicaOptions): Promise<FastifyInstance> {
  const { redis, name, keyPrefix = "cluster-demo:", failureThreshold = 3, resetTimeout = 5_000 } =
    options;
  const app = fastify({
    logger: { level: process.env.LOG_LEVEL ?? "warn", stream: process.stderr },
  });
  const persistence = new RedisAdapter(redis, { keyPrefix, commandTimeout: 1_000 });
  await app.register(fastifyGoGoScope, {
    name,
    persistence,
    // A `key` makes the breaker's state shared by every process using it.
    circuitBreaker: new CircuitBreaker({ key: "inventory", failureThreshold, resetTimeout }),
  });

  // When this replica last saw the breaker change state (epoch ms), so that
  // replicas can be compared: how long after A opened it did B learn of it?
  let changedAt: number | undefined;
  app.scope.circuitBreaker?.on("stateChange", (from, to) => {
    changedAt = Date.now();
    app.log.info({ breaker: "inventory", from, to }, "circuit breaker state changed");
  });

  // The fake inventory service this replica talks to (down on demand).
  let down = false;
  let latency = 0;
  let calls = 0;
  const inventory = async () => {
    calls++;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    if (down) throw new Error("inventory service unavailable");
    return { sku: "kettle", inStock: 3 };
  };

  app.post<{ Querystring: { down?: string; latency?: string } }>(
    "/dependency",
    async (request) => {
      down = request.query.down === "1";
      latency = Number(request.query.latency ?? 0) || 0;
      return { name, down, latency };
    },
  );

  app.get("/inventory", async (request, reply) => {
    const [err, stock] = await request.scope.task(inventory);
    if (err) {
      return reply.code(503).send({
        name,
        error: err.message,
        code: (err as { code?: string }).code,
      });
    }
    return { name, ...stock };
  });

  app.get("/breaker", async () => ({
    name,
    state: app.scope.circuitBreaker?.state,
    calls,
    changedAt,
  }));

  app.post("/orders", async (request, reply) => {
    const key = request.headers["idempotency-key"];
    if (typeof key !== "string" || key === "") {
      return reply.code(400).send({ error: "an Idempotency-Key header is required" });
    }
    const [err, order] = await request.scope.task(
      async () => ({ orderNumber: await redis.incr(`${keyPrefix}orders`), placedBy: name }),
      { idempotency: { key: `order:${key}`, ttl: 60_000 } },
    );
    if (err) throw err;
    return order;
  });

  return app;
}

/** Runs one replica until SIGTERM/SIGINT; prints `{"name","url"}` once listening. */
export async function runReplica(url: string, name: string, resetTimeout: number): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  redis.on("error", () => {}); // every failed call reports it
  const keyPrefix = process.env.KEY_PREFIX;
  const app = await buildReplica({
    redis,
    name,
    resetTimeout,
    ...(keyPrefix ? { keyPrefix } : {}),
  });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  console.log(JSON.stringify({ name, url: address }));
  const stop = async () => {
    await app.close();
    await redis.quit();
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

async function launch(url: string): Promise<void> {
  const self = new URL(import.meta.url).pathname;
  const command = typeof (globalThis as { Deno?: unknown }).Deno === "object"
    ? [process.execPath, ["run", "-A", self]] as const
    : [process.execPath, [self]] as const;
  for (const name of ["A", "B", "C"]) {
    const child = spawn(command[0], [...command[1], "--replica", "--name", name, "--redis", url], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    process.once("SIGINT", () => child.kill("SIGTERM"));
  }
}

if ((import.meta as { main?: boolean }).main) {
  const { values } = parseArgs({
    options: {
      redis: { type: "string", default: "redis://127.0.0.1:6379" },
      replica: { type: "boolean", default: false },
      name: { type: "string", default: "A" },
      "reset-timeout": { type: "string", default: "5000" },
    },
  });
  if (values.replica) await runReplica(values.redis, values.name, Number(values["reset-timeout"]));
  else await launch(values.redis);
}
