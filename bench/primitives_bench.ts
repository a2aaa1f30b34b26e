// Micro benchmarks of the parity primitives, each beside the npm library a
// user would reach for instead: Semaphore vs p-limit, tokenBucket vs
// limiter's RateLimiter, an in-memory acquireLock vs async-mutex, and a task's
// `dedupe` vs a hand-written shared-promise map. Uncontended, the common case
// for a request: the work is an async function returning at once.
// Run: deno task bench:primitives
import pLimit from "p-limit";
import { Mutex } from "async-mutex";
import { RateLimiter } from "limiter";
import { scope, Semaphore } from "../mod.ts";

const value = { ok: true };
const work = async () => value;
const s = scope({ name: "primitives" });

// ---- a concurrency limit of 4 ----
const semaphore = new Semaphore(4);
const limit = pLimit(4);
Deno.bench({ name: "p-limit(4): limit(fn)", group: "limit", baseline: true }, async () => {
  await limit(work);
});
Deno.bench({ name: "Semaphore(4): acquire(fn)", group: "limit" }, async () => {
  await semaphore.acquire(work);
});

// ---- a token bucket that never runs dry during the run ----
const bucket = s.tokenBucket({ capacity: 1e12, refillRate: 1e12 });
const limiter = new RateLimiter({ tokensPerInterval: 1e12, interval: "second" });
Deno.bench({ name: "limiter: removeTokens(1)", group: "bucket", baseline: true }, async () => {
  await limiter.removeTokens(1);
});
Deno.bench({ name: "tokenBucket: tryConsume(1)", group: "bucket" }, async () => {
  await bucket.tryConsume(1);
});

// ---- an exclusive lock, uncontended ----
const mutex = new Mutex();
const lock = s.acquireLock();
Deno.bench({ name: "async-mutex: runExclusive(fn)", group: "lock", baseline: true }, async () => {
  await mutex.runExclusive(work);
});
Deno.bench({ name: "acquireLock(): acquire, work, release", group: "lock" }, async () => {
  const guard = await lock.acquire();
  try {
    await work();
  } finally {
    await guard.release();
  }
});

// ---- deduplicating concurrent calls with one key (ten callers at once) ----
const inFlight = new Map<string, Promise<unknown>>();
function shared<T>(key: string, fn: () => Promise<T>): Promise<T> {
  let p = inFlight.get(key) as Promise<T> | undefined;
  if (p === undefined) {
    p = fn().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  return p;
}
Deno.bench(
  { name: "shared-promise Map: 10 callers", group: "dedupe", baseline: true },
  async () => {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) calls.push(shared("k", work));
    await Promise.all(calls);
  },
);
Deno.bench({ name: "task({ dedupe }): 10 callers", group: "dedupe" }, async () => {
  const calls: PromiseLike<unknown>[] = [];
  for (let i = 0; i < 10; i++) calls.push(s.task(work, { dedupe: "k" }));
  await Promise.all(calls);
});
