// What a breaker whose state is shared through Redis costs per task, beside
// the in-memory breaker, in one run: a task that succeeds (the common case: no
// Redis call at all while the fleet's failure count is zero), and a failing
// task (its failure is recorded in Redis by a Lua script, asynchronously: the
// task's Result does not wait for it). Needs redis-server (Debian:
// apt-get install redis-server); started here on 127.0.0.1 at a free port.
//
// Run: deno task bench:redis
import { Redis } from "ioredis";
import { CircuitBreaker, scope } from "../mod.ts";
import { RedisAdapter } from "../src/redis/mod.ts";

const port = await (async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
})();
const server = new Deno.Command("redis-server", {
  args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  stdout: "null",
  stderr: "null",
}).spawn();
const redis = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
for (let i = 0; i < 100 && redis.status !== "ready"; i++) {
  await new Promise((r) => setTimeout(r, 20));
}
globalThis.addEventListener("unload", () => {
  redis.disconnect();
  server.kill("SIGKILL");
});

const adapter = new RedisAdapter(redis, { keyPrefix: `bench-${Date.now()}:` });
const big = { failureThreshold: 1_000_000_000, resetTimeout: 1000 };
const local = scope({ circuitBreaker: new CircuitBreaker(big) });
const shared = scope({
  persistence: adapter,
  circuitBreaker: new CircuitBreaker({ ...big, key: "dependency" }),
});
const ok = () => 1;
const boom = () => {
  throw new TypeError("down");
};

Deno.bench(
  { name: "in-memory breaker: await task (success)", group: "success", baseline: true },
  async () => {
    await local.task(ok);
  },
);
Deno.bench({ name: "Redis-shared breaker: await task (success)", group: "success" }, async () => {
  await shared.task(ok);
});
Deno.bench(
  { name: "in-memory breaker: await task (failure)", group: "failure", baseline: true },
  async () => {
    await local.task(boom);
  },
);
Deno.bench({
  name: "Redis-shared breaker: await task (failure, recorded in Redis)",
  group: "failure",
}, async () => {
  await shared.task(boom);
});
