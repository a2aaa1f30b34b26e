// scope.acquireLock() and Lock: exclusive and read-write, local and keyed,
// timeouts, priorities, TTL expiry, and release of every waiter on dispose.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AbortError,
  createLock,
  InMemoryLockProvider,
  LockGuard,
  scope,
  TimeoutError,
} from "../../../src/core/mod.ts";
import { sleep, tick } from "../_helpers.ts";

test("lock: acquire() gives one holder at a time; release() lets the next in", async () => {
  await using s = scope();
  const lock = s.acquireLock();
  const first = await lock.acquire();
  assert.ok(first instanceof LockGuard);
  assert.equal(lock.isLocked, true);
  let second = false;
  const waiting = lock.acquire().then((g) => {
    second = true;
    return g;
  });
  await tick();
  assert.equal(second, false);
  assert.equal(lock.stats.pendingRequests, 1);
  await first.release();
  const g = await waiting;
  assert.equal(second, true);
  await g.release();
  assert.equal(lock.isLocked, false);
});

test("lock: a guard released twice throws; await using releases it", async () => {
  await using s = scope();
  const lock = s.acquireLock();
  const g = await lock.acquire();
  await g.release();
  await assert.rejects(g.release(), /already released/);
  {
    await using _g = await lock.acquire();
    assert.equal(lock.isLocked, true);
  }
  assert.equal(lock.isLocked, false);
});

test("lock: tryAcquire() returns a guard when free and null when held", async () => {
  await using s = scope();
  const lock = s.acquireLock();
  const g = lock.tryAcquire();
  assert.ok(g);
  assert.equal(lock.tryAcquire(), null);
  g[Symbol.dispose]();
  assert.ok(lock.tryAcquire());
});

test("lock: read-write: readers share, a writer waits for them and excludes everyone", async () => {
  await using s = scope();
  const rw = s.acquireLock({ allowMultipleReaders: true });
  const r1 = await rw.read();
  const r2 = await rw.read();
  assert.equal(rw.stats.readerCount, 2);
  assert.equal(rw.tryWrite(), null);
  const order: string[] = [];
  const w = rw.write().then((g) => (order.push("write"), g));
  const r3 = rw.read().then((g) => (order.push("read3"), g)); // queued behind the writer
  await tick();
  assert.deepEqual(order, []);
  await r1.release();
  await r2.release();
  const wg = await w;
  assert.deepEqual(order, ["write"]);
  assert.equal(rw.tryRead(), null);
  await wg.release();
  await (await r3).release();
  assert.deepEqual(order, ["write", "read3"]);
});

test("lock: the wrong kind of call rejects (try* variants throw), in go-go-scope's words, naming the fix", async () => {
  await using s = scope();
  const rw = s.acquireLock({ allowMultipleReaders: true, name: "rw" });
  const mutex = s.acquireLock({ name: "m" });
  const notRw =
    "it is not configured for read-write mode; create it with { allowMultipleReaders: true }";
  const rejected: [string, () => Promise<unknown>, string][] = [
    [
      "acquire() on rw",
      () => rw.acquire(),
      `Cannot acquire lock "rw": it is configured for read-write mode; use read() or write()`,
    ],
    ["read() on a mutex", () => mutex.read(), `Cannot read-lock "m": ${notRw}`],
    ["write() on a mutex", () => mutex.write(), `Cannot write-lock "m": ${notRw}`],
  ];
  for (const [what, call, message] of rejected) {
    let promise: Promise<unknown> | undefined;
    assert.doesNotThrow(() => promise = call(), `${what}: a rejected promise, not a throw`);
    await assert.rejects(promise!, { name: "TypeError", message }, what);
  }
  const thrown: [string, () => unknown, string][] = [
    [
      "tryAcquire() on rw",
      () => rw.tryAcquire(),
      `Cannot try-acquire lock "rw": it is configured for read-write mode; use tryRead() or tryWrite()`,
    ],
    ["tryRead() on a mutex", () => mutex.tryRead(), `Cannot read-lock "m": ${notRw}`],
    ["tryWrite() on a mutex", () => mutex.tryWrite(), `Cannot write-lock "m": ${notRw}`],
  ];
  for (const [what, call, message] of thrown) {
    assert.throws(call, { name: "TypeError", message }, what);
  }
});

test("lock: a higher priority waiter is served first", async () => {
  await using s = scope();
  const lock = s.acquireLock();
  const g = await lock.acquire();
  const order: number[] = [];
  const low = lock.acquire({ priority: 1 }).then(async (x) => (order.push(1), await x.release()));
  const high = lock.acquire({ priority: 9 }).then(async (x) => (order.push(9), await x.release()));
  await g.release();
  await Promise.all([low, high]);
  assert.deepEqual(order, [9, 1]);
});

test("lock: acquire({ timeout }) rejects with a TimeoutError and clears its timer", async () => {
  await using s = scope();
  const lock = s.acquireLock();
  const g = await lock.acquire();
  const err = await lock.acquire({ timeout: 10 }).catch((e) => e);
  assert.ok(err instanceof TimeoutError);
  assert.match(err.message, /not acquired within 10 ms/);
  assert.equal(lock.stats.pendingRequests, 0);
  await assert.rejects(lock.acquire({ timeout: 0 }), TimeoutError);
  await g.release();
});

test("lock: disposing the scope rejects every waiter with the scope's reason", async () => {
  const s = scope();
  const lock = s.acquireLock();
  await lock.acquire();
  const waiters = [lock.acquire(), lock.acquire({ timeout: 10_000 })];
  await s[Symbol.asyncDispose]();
  for (const w of waiters) {
    const err = await w.catch((e) => e);
    assert.ok(err instanceof AbortError);
    assert.equal(err, s.abortReason);
  }
  await assert.rejects(lock.acquire(), AbortError);
});

test("lock: cancelling the scope rejects keyed waiters with its reason (non-Error wrapped)", async () => {
  const s = scope();
  const provider = new InMemoryLockProvider();
  const a = s.acquireLock({ key: "k", provider });
  const b = s.acquireLock({ key: "k", provider });
  await a.acquire();
  const waiting = b.acquire({ timeout: 10_000, pollInterval: 5_000 });
  s.cancel("shutting down");
  const err = await waiting.catch((e) => e);
  assert.ok(err instanceof AbortError);
  assert.equal(err.reason, "shutting down");
  await s[Symbol.asyncDispose]();
  assert.equal(await provider.isLocked("lock:exclusive:k"), false); // held keyed locks released on abort
});

test("lock: keyed locks on the same key exclude each other across Lock objects and scopes", async () => {
  await using s1 = scope();
  await using s2 = scope();
  const key = `shared-${Math.random()}`;
  const g = await s1.acquireLock({ key }).acquire();
  await assert.rejects(s2.acquireLock({ key }).acquire({ timeout: 0 }), TimeoutError);
  await g.release();
  await (await s2.acquireLock({ key }).acquire({ timeout: 0 })).release();
});

test("lock: keyed exclusivity holds under 50 concurrent contenders", async () => {
  await using s = scope();
  const provider = new InMemoryLockProvider();
  let inside = 0;
  let maxInside = 0;
  let done = 0;
  await Promise.all(Array.from({ length: 50 }, async (_, i) => {
    const lock = s.acquireLock({ key: "hot", provider, owner: `w${i}`, ttl: 5_000 });
    const g = await lock.acquire({ timeout: 10_000, pollInterval: 1_000 });
    inside++;
    maxInside = Math.max(maxInside, inside);
    await tick();
    inside--;
    done++;
    await g.release();
  }));
  assert.equal(done, 50);
  assert.equal(maxInside, 1);
  assert.equal(await provider.isLocked("lock:exclusive:hot"), false);
});

test("lock: a keyed lock whose holder stopped extending expires after its ttl", async () => {
  await using s = scope();
  const provider = new InMemoryLockProvider();
  const crashed = await provider.acquire("lock:exclusive:job", 30, "crashed-process");
  assert.ok(crashed);
  const lock = s.acquireLock({ key: "job", provider, ttl: 1_000 });
  const g = await lock.acquire({ timeout: 1_000, pollInterval: 10 });
  assert.equal(await crashed.isValid(), false);
  await g.release();
});

test("lock: a held keyed lock is extended while held", async () => {
  await using s = scope();
  const provider = new InMemoryLockProvider();
  const lock = s.acquireLock({ key: "long", provider, ttl: 100 });
  const g = await lock.acquire();
  await sleep(250); // more than twice the ttl
  assert.equal(await provider.isLocked("lock:exclusive:long"), true);
  await g.release();
  assert.equal(await provider.isLocked("lock:exclusive:long"), false);
});

test("lock: keyed read-write: readers share a key, a writer waits", async () => {
  await using s = scope();
  const provider = new InMemoryLockProvider();
  const rw = s.acquireLock({ key: "doc", provider, allowMultipleReaders: true });
  const r1 = await rw.read({ timeout: 0 });
  const r2 = await rw.read({ timeout: 0 });
  await assert.rejects(rw.write({ timeout: 0 }), TimeoutError);
  const w = rw.write({ timeout: 1_000 });
  await r1.release();
  await r2.release();
  await (await w).release();
});

test("lock: isLocked and tryAcquire on a keyed lock throw, naming the alternative", async () => {
  await using s = scope();
  const lock = s.acquireLock({ key: "x", provider: new InMemoryLockProvider() });
  assert.throws(() => lock.isLocked, /provider's isLocked/);
  assert.throws(() => lock.tryAcquire(), /keyed lock/);
});

test("lock: the scope's persistence.lock is the default provider, inherited by children", async () => {
  const provider = new InMemoryLockProvider();
  await using s = scope({ persistence: { lock: provider } });
  const child = s.createChild();
  const g = await child.acquireLock({ key: "p" }).acquire();
  assert.equal(await provider.isLocked("lock:exclusive:p"), true);
  await g.release();
});

test("lock: createLock(signal) rejects waiters when the signal aborts and removes its listener", async () => {
  const c = new AbortController();
  const lock = createLock(c.signal);
  await lock.acquire();
  const w = lock.acquire();
  c.abort(new Error("stop"));
  await assert.rejects(w, /stop/);
});

test("lock: bad options throw at once, naming the option", async () => {
  await using s = scope();
  assert.throws(
    () => s.acquireLock({ ttl: -1 }),
    /"ttl" must be a finite number of milliseconds > 0, received -1/,
  );
  assert.throws(() => s.acquireLock({ key: 1 as never }), /"key" must be a string, received 1/);
  assert.throws(() => s.acquireLock({ tll: 5 } as never), /unknown option "tll"/);
  assert.throws(
    () => s.acquireLock({ provider: {} as never, key: "a" }),
    /"provider" must be a LockProvider/,
  );
  assert.throws(() => s.acquireLock().acquire({ timeout: "1" as never }), /"timeout" must be/);
});
