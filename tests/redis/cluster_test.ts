// Three replicas in three separate processes on one real Redis: the breaker's
// state and idempotent orders are shared between them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { type RedisServer, redisSkip, startRedis } from "./_redis_server.ts";
import { exitOf, stopChild } from "./_child.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const RESET = 600;
/** How long a replica gets to print its URL (a cold Deno compiles the example first). */
const READY_TIMEOUT_MS = 60_000;

interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
  exited: Promise<void>;
}

/** Spawns tests/redis/_replica in the runtime running this test. */
function spawnReplica(redisUrl: string, name: string, prefix: string): Promise<Replica> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const script = new URL(`./_replica.${deno ? "ts" : "js"}`, import.meta.url).pathname;
  // The dev config holds the test-only imports (ioredis).
  const config = new URL("../../deno.dev.json", import.meta.url).pathname;
  const args = deno ? ["run", "--config", config, "-A", script] : [script];
  const child = spawn(deno ? deno.execPath() : process.execPath, [
    ...args,
    redisUrl,
    name,
    String(RESET),
  ], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, KEY_PREFIX: prefix },
  });
  const exited = exitOf(child);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ready = new Promise<Replica>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        resolve({ name, url: (JSON.parse(line) as { url: string }).url, child, exited });
      }
    });
    child.once("exit", (code) => reject(new Error(`replica ${name} exited (${code}): ${out}`)));
    timer = setTimeout(
      () => reject(new Error(`replica ${name} not ready within ${READY_TIMEOUT_MS} ms: ${out}`)),
      READY_TIMEOUT_MS,
    );
  });
  return ready.catch(async (error) => {
    await stopChild(child, exited);
    throw error;
  }).finally(() => clearTimeout(timer));
}

/** SIGTERM (the replica closes its app and its Redis client), SIGKILL after 3 s. */
function stopReplica(r: Replica): Promise<void> {
  return stopChild(r.child, r.exited, { graceMs: 3_000 });
}

async function json(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

describe("three replicas in three processes on one Redis", { skip: redisSkip }, () => {
  let server: RedisServer;
  let replicas: Replica[] = [];

  before(async () => {
    server = await startRedis();
    const prefix = `cluster-${Date.now()}:`;
    const started = await Promise.allSettled(
      ["A", "B", "C"].map((n) => spawnReplica(server.url, n, prefix)),
    );
    // Keep the ones that started, so that after() stops them even if another failed.
    replicas = started.flatMap((s) => s.status === "fulfilled" ? [s.value] : []);
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
  });
  after(async () => {
    await Promise.all(replicas.map(stopReplica));
    await server?.stop();
  });

  it("failures seen by one replica open the breaker in all three within 100 ms; half-open admits one trial in all", async () => {
    const [a, b, c] = replicas as [Replica, Replica, Replica];
    await json(`${a.url}/dependency?down=1`, { method: "POST" });
    for (let i = 0; i < 3; i++) {
      const r = await json(`${a.url}/inventory`);
      assert.equal(r.status, 503);
      assert.equal(r.body.error, "inventory service unavailable");
    }
    const opened = performance.now();
    // B and C never saw a failure: they learn of the open breaker from Redis.
    const learned = await Promise.all([b, c].map(async (r) => {
      let body: Record<string, unknown>;
      do {
        body = (await json(`${r.url}/breaker`)).body;
      } while (body.state !== "open" && performance.now() - opened < 1_000);
      return { name: r.name, state: body.state, changedAt: body.changedAt as number };
    }));
    // How long after A opened did each replica learn of it: the replicas'
    // own clocks (one machine), so the test's HTTP polling, which a loaded
    // CI machine slows, is not part of what is measured.
    const aOpened = (await json(`${a.url}/breaker`)).body.changedAt as number;
    assert.equal(typeof aOpened, "number", "A saw its breaker change state");
    for (const l of learned) {
      assert.equal(l.state, "open", `${l.name} opened`);
      const after = l.changedAt - aOpened;
      assert.ok(after < 100, `${l.name} opened within 100 ms of A (took ${after} ms)`);
    }
    for (const r of [b, c]) {
      const res = await json(`${r.url}/inventory`);
      assert.equal(res.status, 503);
      assert.equal(res.body.code, "GGS_ERR_CIRCUIT_OPEN");
      assert.equal(
        (await json(`${r.url}/breaker`)).body.calls,
        0,
        `${r.name} did not call the dependency`,
      );
    }
    // After the reset timeout the dependency is back but slow (200 ms): while
    // the one trial is in flight, a burst at all three replicas is rejected.
    await Promise.all(
      replicas.map((r) => json(`${r.url}/dependency?down=0&latency=200`, { method: "POST" })),
    );
    const calls = async () =>
      (await Promise.all(
        replicas.map(async (r) => (await json(`${r.url}/breaker`)).body.calls as number),
      ))
        .reduce((x, y) => x + y, 0);
    const before = await calls();
    await sleep(RESET + 50);
    const burst: Promise<{ status: number }>[] = [];
    for (let round = 0; round < 4; round++) {
      for (const r of replicas) burst.push(json(`${r.url}/inventory`));
      await sleep(20);
    }
    const statuses = (await Promise.all(burst)).map((r) => r.status);
    assert.equal(await calls() - before, 1, "one trial call across the three replicas");
    assert.equal(statuses.filter((s) => s === 200).length, 1, "the trial succeeded");
    // The successful trial closes every replica's breaker.
    let states: unknown[] = [];
    const deadline = performance.now() + 1_000;
    do {
      states = await Promise.all(
        replicas.map(async (r) => (await json(`${r.url}/breaker`)).body.state),
      );
    } while (states.some((s) => s !== "closed") && performance.now() < deadline);
    assert.deepEqual(states, ["closed", "closed", "closed"]);
  });

  it("an order posted twice with one Idempotency-Key, to two replicas, is placed once", async () => {
    const [a, b] = replicas as [Replica, Replica];
    const init = { method: "POST", headers: { "idempotency-key": "k-1" } };
    const first = await json(`${a.url}/orders`, init);
    const second = await json(`${b.url}/orders`, init);
    assert.equal(first.status, 200);
    assert.deepEqual(second.body, first.body);
    const other = await json(`${b.url}/orders`, {
      method: "POST",
      headers: { "idempotency-key": "k-2" },
    });
    assert.equal(other.body.orderNumber, (first.body.orderNumber as number) + 1);
  });
});
