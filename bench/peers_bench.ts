// Micro benchmarks of the documented handlers' building blocks, each beside the npm library users
// would pick instead (and a hand-written baseline). The HTTP forms of the same comparisons are the
// peers variants of `bench:instr` and `bench:http` (bench/_servers/peers_server.mjs).
// Run: deno task bench   (deno bench bench/), or deno bench -A bench/peers_bench.ts
import pRetry from "p-retry";
import pLimit from "p-limit";
import Opossum from "opossum";
import { circuitBreaker, ConsecutiveBreaker, handleAll } from "cockatiel";
import { all, call, run } from "effection";
import { CircuitBreaker, scope } from "../mod.ts";

const value = { ok: true };
const dependency = async () => value;
const s = scope({ name: "peers" });

// ---- retry + timeout, the dependency succeeds at once ----
// AbortSignal.timeout() leaves a pending 5 s timer per call: the cost p-retry's users pay.
async function retryLoop<T>(
  fn: () => Promise<T>,
  retries: number,
  delay: (attempt: number) => number,
  timeoutMs: number,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    for (let attempt = 0;; attempt++) {
      try {
        return await Promise.race([fn(), expired]);
      } catch (error) {
        if (attempt >= retries) throw error;
        const ms = delay(attempt);
        if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      }
    }
  } finally {
    clearTimeout(timer);
  }
}
const exponential = (attempt: number) => 100 * 2 ** attempt;

Deno.bench({ name: "baseline: await fn()", group: "retry", baseline: true }, async () => {
  await dependency();
});
Deno.bench(
  { name: "ours: scope.task(fn, { retry: 'exponential', timeout: 5000 })", group: "retry" },
  async () => {
    await s.task(dependency, { retry: "exponential", timeout: 5000 });
  },
);
Deno.bench({ name: "p-retry + AbortSignal.timeout(5000)", group: "retry" }, async () => {
  await pRetry(dependency, {
    retries: 3,
    minTimeout: 100,
    factor: 2,
    randomize: false,
    signal: AbortSignal.timeout(5000),
  });
});
Deno.bench({ name: "hand-written loop + one timer", group: "retry" }, async () => {
  await retryLoop(dependency, 3, exponential, 5000);
});

// ---- retry, the dependency fails once (no delay between attempts) ----
const flakyOnce = () => {
  let calls = 0;
  return async () => {
    if (calls++ === 0) throw new Error("flaky");
    return value;
  };
};
const noDelay = { max: 3, delay: 0 };
Deno.bench(
  { name: "ours: scope.task(flaky, { retry: { max: 3, delay: 0 }, timeout })", group: "retry1" },
  async () => {
    await s.task(flakyOnce(), { retry: noDelay, timeout: 5000 });
  },
);
Deno.bench({ name: "p-retry (minTimeout 0) + AbortSignal.timeout", group: "retry1" }, async () => {
  await pRetry(flakyOnce(), { retries: 3, minTimeout: 0, signal: AbortSignal.timeout(5000) });
});
Deno.bench(
  { name: "hand-written loop (no delay)", group: "retry1", baseline: true },
  async () => {
    await retryLoop(flakyOnce(), 3, () => 0, 5000);
  },
);

// ---- fan-out of three with a concurrency limit ----
const a = async () => 1;
const b = async () => 2;
const c = async () => 3;
Deno.bench({ name: "baseline: Promise.all of 3", group: "fanout", baseline: true }, async () => {
  await Promise.all([a(), b(), c()]);
});
Deno.bench(
  { name: "ours: scope.parallel([a, b, c], { concurrency: 3 })", group: "fanout" },
  async () => {
    await s.parallel([a, b, c], { concurrency: 3 });
  },
);
Deno.bench({ name: "p-limit(3) + Promise.all", group: "fanout" }, async () => {
  const limit = pLimit(3);
  await Promise.all([limit(a), limit(b), limit(c)]);
});
Deno.bench(
  { name: "effection run(all([call(a), call(b), call(c)]))", group: "fanout" },
  async () => {
    await run(function* () {
      return yield* all([call(a), call(b), call(c)]);
    });
  },
);

// ---- a circuit breaker, closed ----
const breaker = new CircuitBreaker({ failureThreshold: 5, resetTimeout: 30_000 });
const breakerScope = scope({ name: "breaker", circuitBreaker: breaker });
const opossum = new Opossum(dependency, { timeout: false, resetTimeout: 30_000 });
const cockatiel = circuitBreaker(handleAll, {
  halfOpenAfter: 30_000,
  breaker: new ConsecutiveBreaker(5),
});
Deno.bench(
  { name: "baseline: await fn() (breaker)", group: "breaker", baseline: true },
  async () => {
    await dependency();
  },
);
Deno.bench({ name: "ours: breaker.execute(fn)", group: "breaker" }, async () => {
  await breaker.execute(dependency);
});
Deno.bench(
  { name: "ours: scope.task(fn) on a scope with a breaker", group: "breaker" },
  async () => {
    await breakerScope.task(dependency);
  },
);
Deno.bench({ name: "opossum breaker.fire() (timeout: false)", group: "breaker" }, async () => {
  await opossum.fire();
});
Deno.bench({ name: "cockatiel circuitBreaker().execute(fn)", group: "breaker" }, async () => {
  await cockatiel.execute(dependency);
});

// ---- a stream of 100 events, produced and consumed ----
const EVENTS = Array.from({ length: 100 }, (_, n) => ({ id: String(n), data: { n } }));
Deno.bench(
  { name: "baseline: async generator of 100, for await", group: "stream", baseline: true },
  async () => {
    async function* events() {
      for (const event of EVENTS) yield event;
    }
    let n = 0;
    for await (const _ of events()) n++;
  },
);
Deno.bench(
  { name: "ours: channel (buffer 16) + producer task, for await", group: "stream" },
  async () => {
    const ch = s.channel<(typeof EVENTS)[number]>({ buffer: 16 });
    s.task(async () => {
      try {
        for (const event of EVENTS) if (!await ch.send(event)) return;
      } finally {
        ch.close();
      }
    });
    let n = 0;
    for await (const _ of ch) n++;
  },
);
