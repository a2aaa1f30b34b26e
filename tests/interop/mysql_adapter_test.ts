// go-go-scope's own MySQL persistence adapter (@go-go-scope/persistence-mysql
// 2.9.1, from the registry) as the plugin's persistence, on a real MariaDB,
// with replicas as real processes: locks (20 contenders on two replicas, one
// holder at a time, go-go-scope's entry names, a lock left by a SIGKILLed
// replica freed by its ttl, readers and writers), the plugin's breaker (open
// seen by a running replica and by one started later, concurrent failures
// counted), the cache, checkpoints and idempotency across processes.
// go-go-scope's MySQLIdempotencyAdapter cannot run on MariaDB (see
// docs/persistence_adapters.md): the test shows that, then proves our side
// with a store over the same table.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { MariaDb, mariadbSkip } from "./_mariadb.ts";
import { ensureMysqlDeps, loadMysql, type MysqlDeps, type Pool } from "./_mysql_deps.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Installed once into a cache (npm pack + npm ci); a string is why not.
const deps: MysqlDeps | string = mariadbSkip === false ? ensureMysqlDeps() : mariadbSkip;
const skip: string | false = typeof deps === "string" ? deps : false;
if (skip !== false) console.log(`SKIPPED: the go-go-scope MySQL adapter test: ${skip}`);

interface Replica {
  name: string;
  url: string;
  child: ChildProcess;
}

/** Spawns tests/interop/_mysql_replica in the runtime running this test. */
function spawnReplica(port: number, name: string): Promise<Replica> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const script = new URL(`./_mysql_replica.${deno ? "ts" : "js"}`, import.meta.url).pathname;
  const config = new URL("../../deno.dev.json", import.meta.url).pathname;
  const args = deno ? ["run", "--config", config, "-A", script] : [script];
  const child = spawn(deno ? deno.execPath() : process.execPath, [...args, String(port), name], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, GGS_MYSQL_DEPS: JSON.stringify(deps) },
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split("\n").find((l) => l.startsWith("{"));
      if (line) {
        child.stdout!.removeAllListeners("data");
        child.stdout!.resume();
        resolve({ name, url: (JSON.parse(line) as { url: string }).url, child });
      }
    });
    child.once("exit", (code) => reject(new Error(`replica ${name} exited (${code}): ${out}`)));
  });
}

/** SIGTERM, then SIGKILL after 3 s; waits for the exit at most 5 s in all. */
async function stopReplica(r: Replica, signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
  const child = r.child;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill(signal);
  const kill = setTimeout(() => child.kill("SIGKILL"), 3_000);
  await Promise.race([exited, sleep(5_000)]);
  clearTimeout(kill);
}

async function call(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, init);
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

const post = (url: string, headers?: Record<string, string>) =>
  call(url, { method: "POST", ...(headers ? { headers } : {}) });

async function rows<T>(pool: Pool, sql: string, params?: unknown[]): Promise<T[]> {
  const [result] = await pool.query(sql, params);
  return result as T[];
}

/** Polls `check` every 20 ms until it returns true; fails after `ms`. */
async function until(check: () => Promise<boolean>, ms: number, what: string): Promise<number> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > ms) assert.fail(`${what} within ${ms} ms`);
    await sleep(20);
  }
  return performance.now() - started;
}

describe(
  "go-go-scope's MySQL adapter (2.9.1) as the plugin's persistence, on MariaDB, replicas in separate processes",
  {
    skip,
  },
  () => {
    let db: MariaDb;
    let pool: Pool;
    let a: Replica;
    let b: Replica;
    const others: Replica[] = [];
    let mysql: Awaited<ReturnType<typeof loadMysql>>;

    before(async () => {
      db = await MariaDb.start();
      mysql = await loadMysql(deps as MysqlDeps);
      const admin = mysql.createPool({ host: "127.0.0.1", port: db.port, user: "root" });
      await admin.query("CREATE DATABASE ggs");
      await admin.end();
      pool = mysql.createPool({ host: "127.0.0.1", port: db.port, user: "root", database: "ggs" });
      await pool.query(
        "CREATE TABLE interop_witness (inside INT NOT NULL, entries INT NOT NULL) ENGINE=InnoDB",
      );
      await pool.query("INSERT INTO interop_witness VALUES (0, 0)");
      await pool.query(
        "CREATE TABLE interop_orders (id INT AUTO_INCREMENT PRIMARY KEY, placed_by VARCHAR(20))",
      );
      [a, b] = await Promise.all([spawnReplica(db.port, "A"), spawnReplica(db.port, "B")]);
    });

    after(async () => {
      await Promise.all([a, b, ...others].filter(Boolean).map((r) => stopReplica(r)));
      await pool?.end();
      await db?.stop();
    });

    it("connect() at registration created go-go-scope's tables", async () => {
      const tables = (await rows<Record<string, string>>(pool, "SHOW TABLES")).map((r) =>
        Object.values(r)[0]
      );
      for (const t of ["go_goscope_locks", "go_goscope_circuit", "go_goscope_cache"]) {
        assert.ok(tables.includes(t), `${t} exists`);
      }
      assert.ok(tables.includes("go_goscope_checkpoints"));
    });

    it("locks: 20 contenders on two replicas, one holder at a time (the adapter's deadlocks retried)", async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => post(`${(i % 2 ? b : a).url}/critical?key=hot`)),
      );
      for (const r of results) assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(results.map((r) => r.body.inside), Array(20).fill(1), "never two inside");
      const [witness] = await rows<{ entries: number }>(
        pool,
        "SELECT entries FROM interop_witness",
      );
      assert.equal(witness!.entries, 20);
      const [deadlocks] = await rows<{ Value: string }>(
        pool,
        "SHOW GLOBAL STATUS LIKE 'Innodb_deadlocks'",
      );
      console.log(`(${deadlocks?.Value ?? "?"} database deadlocks while acquiring, retried)`);
    });

    it("locks: the entry is go-go-scope's lock:exclusive:<key>, so a go-go-scope process and ours exclude each other", async () => {
      // What go-go-scope's Lock holds for acquire() on "hot".
      const adapter = new mysql.MySQLAdapter(pool, { keyPrefix: "app:" });
      const theirs = await adapter.acquire("lock:exclusive:hot", 10_000, "go-go-scope-process");
      assert.ok(theirs, "free after the contenders");
      const refused = await post(`${a.url}/critical?key=hot&timeout=300`);
      assert.equal(refused.status, 504, "ours waits for theirs");
      await theirs.release();
      const ours = await post(`${a.url}/critical?key=hot&timeout=5000&hold=300`);
      assert.equal(ours.status, 200);
    });

    it("locks: a lock held by a replica that was SIGKILLed is freed by its ttl", async () => {
      const c = await spawnReplica(db.port, "C");
      others.push(c);
      assert.equal((await post(`${c.url}/hold?key=job&ttl=3000`)).status, 200);
      const held = await rows<{ key: string }>(
        pool,
        "SELECT `key` FROM go_goscope_locks WHERE `key` = 'app:lock:lock:exclusive:job'",
      );
      assert.equal(
        held.length,
        1,
        "held under go-go-scope's name (the adapter adds its prefix and lock:)",
      );
      assert.equal((await post(`${a.url}/critical?key=job&timeout=300`)).status, 504);
      await stopReplica(c, "SIGKILL");
      const started = performance.now();
      const after = await post(`${a.url}/critical?key=job&timeout=15000`);
      assert.equal(after.status, 200, JSON.stringify(after.body));
      assert.ok(performance.now() - started < 8_000, "freed within its ttl (3 s, whole seconds)");
    });

    it("locks: readers on two replicas hold at once; a writer keeps new readers out", async () => {
      const longRead = post(`${a.url}/rw?mode=read&key=doc&hold=1500`);
      await until(
        async () =>
          (await rows(
            pool,
            "SELECT 1 FROM go_goscope_locks WHERE `key` LIKE 'app:lock:lock:read:doc:%'",
          ))
            .length > 0,
        5_000,
        "A's read entry",
      );
      const otherRead = await post(`${b.url}/rw?mode=read&key=doc&timeout=1000`);
      assert.equal(otherRead.status, 200, "a second reader does not wait for the first");
      const first = await longRead;
      assert.ok((otherRead.body.acquiredAt as number) < (first.body.releasedAt as number));

      const writer = post(`${b.url}/rw?mode=write&key=doc&hold=800`);
      await until(
        async () =>
          (await rows(
            pool,
            "SELECT 1 FROM go_goscope_locks WHERE `key` = 'app:lock:lock:write:doc'",
          ))
            .length > 0,
        5_000,
        "B's write entry",
      );
      const reader = await post(`${a.url}/rw?mode=read&key=doc&timeout=5000`);
      const w = await writer;
      assert.equal(w.status, 200);
      assert.equal(reader.status, 200);
      assert.ok(
        (reader.body.acquiredAt as number) >= (w.body.releasedAt as number),
        "the reader entered after the writer left",
      );
    });

    it("cache: a value set by one replica is read by the other", async () => {
      const put = await call(`${a.url}/cache/greeting`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ value: { text: "hello" }, ttl: 60_000 }),
      });
      assert.equal(put.status, 200);
      assert.deepEqual((await call(`${b.url}/cache/greeting`)).body, {
        value: { text: "hello" },
        has: true,
      });
      assert.deepEqual((await call(`${b.url}/cache?pattern=greet*`)).body, { keys: ["greeting"] });
      await call(`${a.url}/cache/greeting`, { method: "DELETE" });
      assert.deepEqual((await call(`${b.url}/cache/greeting`)).body, { value: null, has: false });
    });

    it("checkpoints: a run that crashed on one replica is resumed on the other", async () => {
      const crashed = await post(`${a.url}/import?crashAt=50`);
      assert.deepEqual(crashed.body, { error: "crashed at 50" });
      const saved = await rows<{ sequence: number }>(
        pool,
        "SELECT sequence FROM go_goscope_checkpoints WHERE task_id = 'import' ORDER BY sequence",
      );
      assert.deepEqual(saved.map((r) => r.sequence), [3, 4, 5], "the 3 newest kept");
      const resumed = await post(`${b.url}/import?resume=1`);
      assert.deepEqual(resumed.body, { resumedFrom: 50, by: "B" });
      const left = await rows(
        pool,
        "SELECT 1 FROM go_goscope_checkpoints WHERE task_id = 'import'",
      );
      assert.equal(left.length, 0, "a finished task's checkpoints are deleted");
    });

    it("idempotency: go-go-scope's MySQLIdempotencyAdapter cannot create its table on MariaDB", async () => {
      const err = await new mysql.MySQLIdempotencyAdapter(pool).connect().then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
      assert.equal(err?.code, "ER_PARSE_ERROR", "its SQL uses the reserved word key unquoted");
    });

    it("idempotency: results cross processes in go-go-scope's format, both ways", async () => {
      const first = await post(`${a.url}/orders`, { "idempotency-key": "k-1" });
      const again = await post(`${b.url}/orders`, { "idempotency-key": "k-1" });
      assert.equal(first.status, 200);
      assert.deepEqual(again.body, first.body, "B returned A's result");
      const stored = await rows<{ value: unknown }>(
        pool,
        "SELECT value FROM go_goscope_idempotency WHERE `key` = 'order:k-1'",
      );
      const value = typeof stored[0]!.value === "string"
        ? JSON.parse(stored[0]!.value)
        : stored[0]!.value;
      assert.deepEqual(value, [null, first.body], "the Result, as go-go-scope stores it");

      // A result stored by a go-go-scope process is read without running.
      await pool.query(
        "INSERT INTO go_goscope_idempotency (`key`, value) VALUES ('order:k-9', ?)",
        [JSON.stringify([null, { orderNumber: 99, placedBy: "go-go-scope" }])],
      );
      const theirs = await post(`${b.url}/orders`, { "idempotency-key": "k-9" });
      assert.deepEqual(theirs.body, { orderNumber: 99, placedBy: "go-go-scope" });
      const [count] = await rows<{ n: number }>(pool, "SELECT COUNT(*) AS n FROM interop_orders");
      assert.equal(Number(count!.n), 1, "one order placed in all");
    });

    it("breaker: concurrent failures are all counted; open is seen by a running replica and by one started later", async () => {
      const state = async () =>
        (await rows<{ state: string; failure_count: number }>(
          pool,
          "SELECT state, failure_count FROM go_goscope_circuit WHERE `key` = 'app:circuit:orders-api'",
        ))[0];
      const first = await post(`${a.url}/fail?n=6`);
      assert.equal(first.status, 200);
      await until(async () => (await state())?.failure_count === 6, 5_000, "6 failures stored");
      assert.equal((await state())?.state, "closed");
      assert.equal((await call(`${a.url}/breaker`)).body.key, "orders-api", "the plugin's name");

      await post(`${a.url}/fail?n=4`);
      await until(async () => (await state())?.state === "open", 5_000, "stored open");
      // B is running and never failed: it reads the state when used (no subscribe).
      const took = await until(
        async () => (await call(`${b.url}/breaker`)).body.state === "open",
        5_000,
        "B open",
      );
      assert.ok(took < 2_500, `B learned within about a second (${took.toFixed(0)} ms)`);
      const refused = await call(`${b.url}/call`);
      assert.equal(refused.status, 503);
      assert.equal(refused.body.code, "GGS_ERR_CIRCUIT_OPEN");
      assert.equal((await call(`${b.url}/breaker`)).body.calls, 0, "B did not call the dependency");

      const d = await spawnReplica(db.port, "D");
      others.push(d);
      await until(
        async () => (await call(`${d.url}/breaker`)).body.state === "open",
        1_000,
        "D open from its start",
      );
      assert.equal((await call(`${d.url}/call`)).status, 503);
    });
  },
);
