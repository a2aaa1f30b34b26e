// One replica for tests/interop/mysql_adapter_test.ts (which spawns several):
// Fastify with the plugin, whose persistence is go-go-scope's own MySQLAdapter
// (idempotency through MariaDbIdempotencyStore, see there why), and routes that
// use locks, the plugin's breaker, the cache, checkpoints and idempotency.
// Args: the MariaDB port and the replica's name; env GGS_MYSQL_DEPS: where
// the adapter and mysql2 are (a MysqlDeps as JSON). Prints {"name","url"}.
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../mod.ts";
import { loadMysql, type MysqlDeps } from "./_mysql_deps.ts";
import { MariaDbIdempotencyStore } from "./_idempotency_store.ts";

const [port = "", name = "A"] = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const deps = JSON.parse(process.env.GGS_MYSQL_DEPS ?? "{}") as MysqlDeps;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const mysql = await loadMysql(deps);
const pool = mysql.createPool({
  host: "127.0.0.1",
  port: Number(port),
  user: "root",
  database: "ggs",
  connectionLimit: 20,
});
// A keyPrefix: without one, the adapter's cache keys(pattern) finds nothing.
const adapter = new mysql.MySQLAdapter(pool, { keyPrefix: "app:" });
const app = Fastify({ logger: { level: "fatal", stream: process.stderr } });
await app.register(fastifyGoGoScope, {
  name: "orders-api",
  // The adapter for everything it provides (connected at registration: its
  // connect() creates its tables); idempotency from a store that works.
  persistence: {
    lock: adapter,
    circuitBreaker: adapter,
    cache: adapter,
    checkpoint: adapter,
    idempotency: new MariaDbIdempotencyStore(pool),
  },
  // No key: the plugin's name is the key under which the state is shared.
  circuitBreaker: { failureThreshold: 10, resetTimeout: 60_000 },
});

let calls = 0;
type Q = Record<string, string | undefined>;

app.post<{ Querystring: Q }>("/critical", async (request) => {
  const { key = "hot", timeout = "30000", hold = "5" } = request.query;
  const started = Date.now();
  const lock = request.scope.acquireLock({ key, ttl: 10_000 });
  const guard = await lock.acquire({ timeout: Number(timeout), pollInterval: 20 });
  try {
    await pool.query("UPDATE interop_witness SET inside = inside + 1, entries = entries + 1");
    const [rows] = await pool.query("SELECT inside FROM interop_witness");
    const inside = (rows as { inside: number }[])[0]!.inside;
    await sleep(Number(hold));
    await pool.query("UPDATE interop_witness SET inside = inside - 1");
    return { inside, waited: Date.now() - started };
  } finally {
    await guard.release();
  }
});

app.post<{ Querystring: Q }>("/hold", async (request) => {
  const { key = "job", ttl = "3000" } = request.query;
  // On the root scope: held (and extended) until the process dies.
  await app.scope.acquireLock({ key, ttl: Number(ttl) }).acquire({ timeout: 5_000 });
  return { held: key };
});

app.post<{ Querystring: Q }>("/rw", async (request) => {
  const { key = "doc", mode = "read", hold = "0", timeout = "5000" } = request.query;
  const lock = request.scope.acquireLock({ key, allowMultipleReaders: true, ttl: 10_000 });
  const options = { timeout: Number(timeout), pollInterval: 20 };
  const guard = mode === "write" ? await lock.write(options) : await lock.read(options);
  const acquiredAt = Date.now();
  await sleep(Number(hold));
  const releasedAt = Date.now();
  await guard.release();
  return { acquiredAt, releasedAt };
});

app.post<{ Querystring: Q }>("/fail", async (request) => {
  const n = Number(request.query.n ?? 1);
  const results = await Promise.all(Array.from({ length: n }, () =>
    app.scope.task(() => {
      calls++;
      throw new Error("dependency down");
    })));
  return { codes: results.map(([err]) => (err as { code?: string } | undefined)?.code ?? null) };
});

app.get("/breaker", () => ({
  state: app.scope.circuitBreaker?.state,
  key: app.scope.circuitBreaker?.key,
  calls,
}));

app.get("/call", async (request, reply) => {
  const [err] = await request.scope.task(() => {
    calls++;
    return "ok";
  });
  if (err) return reply.code(503).send({ code: (err as { code?: string }).code });
  return { ok: true };
});

app.put<{ Params: { key: string }; Body: { value: unknown; ttl?: number } }>(
  "/cache/:key",
  async (request) => {
    await request.scope.persistence!.cache!.set(
      request.params.key,
      request.body.value,
      request.body.ttl,
    );
    return { stored: request.params.key };
  },
);

app.get<{ Params: { key: string } }>("/cache/:key", async (request) => {
  const cache = request.scope.persistence!.cache!;
  return { value: await cache.get(request.params.key), has: await cache.has(request.params.key) };
});

app.get<{ Querystring: Q }>("/cache", async (request) => ({
  keys: await request.scope.persistence!.cache!.keys(request.query.pattern),
}));

app.delete<{ Params: { key: string } }>("/cache/:key", async (request) => {
  await request.scope.persistence!.cache!.delete(request.params.key);
  return { deleted: request.params.key };
});

app.post<{ Querystring: Q }>("/import", async (request) => {
  const crashAt = Number(request.query.crashAt ?? 0);
  const run = async (ctx: { checkpoint?: { save(d: unknown): Promise<void>; data?: unknown } }) => {
    const from = (ctx.checkpoint?.data as { done?: number } | undefined)?.done ?? 0;
    for (let done = from + 10; done <= 100; done += 10) {
      await ctx.checkpoint!.save({ done, by: name });
      if (done === crashAt) throw new Error(`crashed at ${done}`);
    }
    return { resumedFrom: from, by: name };
  };
  const [err, value] = request.query.resume === "1"
    ? await request.scope.resumeTask("import", run, { checkpoint: { maxCheckpoints: 3 } })
    : await request.scope.task(run, { id: "import", checkpoint: { maxCheckpoints: 3 } });
  return err ? { error: err.message } : value;
});

app.post("/orders", async (request, reply) => {
  const key = request.headers["idempotency-key"];
  if (typeof key !== "string") return reply.code(400).send({ error: "Idempotency-Key missing" });
  const [err, order] = await request.scope.task(async () => {
    const [result] = await pool.query("INSERT INTO interop_orders (placed_by) VALUES (?)", [name]);
    return { orderNumber: (result as { insertId: number }).insertId, placedBy: name };
  }, { idempotency: { key: `order:${key}`, ttl: 60_000 } });
  if (err) throw err;
  return order;
});

const url = await app.listen({ host: "127.0.0.1", port: 0 });
console.log(JSON.stringify({ name, url }));
const stop = async () => {
  await app.close();
  await pool.end();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
