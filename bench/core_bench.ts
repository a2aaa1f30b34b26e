// Micro benchmarks of the core, each beside its direct baseline.
// Run: deno task bench   (deno bench bench/)
import { Channel, CircuitBreaker, scope } from "../mod.ts";

const root = scope({ name: "bench-root" });
const breaker = new CircuitBreaker();
const value = { ok: true };
const fn = () => value;
const asyncFn = async () => value;

Deno.bench({ name: "baseline: new AbortController()", group: "scope", baseline: true }, () => {
  new AbortController();
});
Deno.bench({ name: "scope() create + dispose, no parent", group: "scope" }, async () => {
  const s = scope();
  await s[Symbol.asyncDispose]();
});
Deno.bench({ name: "scope() create + dispose, with parent", group: "scope" }, async () => {
  const s = scope({ parent: root });
  await s[Symbol.asyncDispose]();
});
Deno.bench(
  { name: "scope() create + dispose, parent + context + name", group: "scope" },
  async () => {
    const s = scope({ parent: root, name: "request-1", context: { requestId: "1" } });
    await s[Symbol.asyncDispose]();
  },
);

// Under load other requests are in flight, so the deadline list for their
// timeout is never empty: this scope keeps it so during the benchmarks.
// (deno bench ends the process when the benchmarks are done.)
scope({ parent: root, timeout: 30_000 });
Deno.bench(
  { name: "scope() with timeout (30 s) + dispose, others in flight", group: "scope" },
  async () => {
    const s = scope({ parent: root, timeout: 30_000 });
    await s[Symbol.asyncDispose]();
  },
);
Deno.bench({ name: "baseline: setTimeout + clearTimeout", group: "scope" }, () => {
  clearTimeout(setTimeout(fn, 30_000));
});

const taskScope = scope({ name: "tasks" });
Deno.bench({ name: "baseline: await fn()", group: "task", baseline: true }, async () => {
  await asyncFn();
});
Deno.bench({ name: "await scope.task(asyncFn)", group: "task" }, async () => {
  await taskScope.task(asyncFn);
});
Deno.bench({ name: "await scope.task(syncFn)", group: "task" }, async () => {
  await taskScope.task(fn);
});
Deno.bench({ name: "await scope.task(fn, { timeout })", group: "task" }, async () => {
  await taskScope.task(asyncFn, { timeout: 5000 });
});
Deno.bench({ name: "request: child scope + one task + dispose", group: "task" }, async () => {
  const s = scope({ parent: root });
  await s.task(asyncFn);
  await s[Symbol.asyncDispose]();
});

Deno.bench({ name: "baseline: Promise.all of 3", group: "parallel", baseline: true }, async () => {
  await Promise.all([asyncFn(), asyncFn(), asyncFn()]);
});
Deno.bench({ name: "scope.parallel of 3", group: "parallel" }, async () => {
  await taskScope.parallel([asyncFn, asyncFn, asyncFn]);
});

Deno.bench({ name: "baseline: array push + shift (100)", group: "channel", baseline: true }, () => {
  const a: number[] = [];
  for (let i = 0; i < 100; i++) a.push(i);
  while (a.length > 0) a.shift();
});
Deno.bench({ name: "channel send + receive (100, buffer 100)", group: "channel" }, async () => {
  const ch = new Channel<number>({ buffer: 100 });
  for (let i = 0; i < 100; i++) await ch.send(i);
  for (let i = 0; i < 100; i++) await ch.receive();
});

Deno.bench(
  { name: "baseline: await fn() (breaker)", group: "breaker", baseline: true },
  async () => {
    await asyncFn();
  },
);
Deno.bench({ name: "breaker.execute(fn)", group: "breaker" }, async () => {
  await breaker.execute(asyncFn);
});
Deno.bench({ name: "scope.task(fn) through a breaker", group: "breaker" }, async () => {
  await taskScope.task(asyncFn, { circuitBreaker: breaker });
});
