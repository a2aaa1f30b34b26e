// scope.parallel(), scope.race() and scope.any(). One named test per rule of
// core_contract.md.
import { test } from "node:test";
import assert from "node:assert/strict";
import { AbortError, CircuitBreaker, scope, TimeoutError } from "../../../src/core/mod.ts";
import { alive, dispose, sleep, tick, untilAborted } from "../_helpers.ts";

// ---------------------------------------------------------------- parallel

test("parallel: the seed's shape: [undefined, results] on success", async () => {
  const s = scope();
  const [err, results] = await s.parallel([
    () => 1,
    async () => "two",
    async () => {
      await tick();
      return { three: 3 };
    },
  ], { concurrency: 3 });
  assert.equal(err, undefined);
  assert.deepEqual(results, [1, "two", { three: 3 }]);
  await dispose(s);
});

test("parallel: values are in input order and typed per position", async () => {
  const s = scope();
  const [err, results] = await s.parallel([
    async () => {
      await sleep(5);
      return 1;
    },
    () => "b",
  ]);
  if (err) assert.fail(err);
  const n: number = results[0];
  const str: string = results[1];
  assert.equal(n, 1);
  assert.equal(str, "b");
  await dispose(s);
});

test("parallel: an empty array resolves [undefined, []]", async () => {
  const s = scope();
  assert.deepEqual(await s.parallel([]), [undefined, []]);
  await dispose(s);
});

test("parallel: each factory runs as a task of the scope with its context", async () => {
  const s = scope({ context: { id: 7 } });
  let during = -1;
  const [, results] = await s.parallel([
    ({ context }) => {
      during = s.taskCount;
      return context.id;
    },
    ({ signal }) => signal instanceof AbortSignal,
  ]);
  assert.deepEqual(results, [7, true]);
  assert.ok(during >= 1);
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("parallel: fails fast with the first error and aborts the siblings still running", async () => {
  const s = scope();
  const boom = new RangeError("boom");
  const signals: AbortSignal[] = [];
  const [err, results] = await s.parallel([
    ({ signal }) => {
      signals.push(signal);
      return untilAborted(signal);
    },
    async () => {
      await tick();
      throw boom;
    },
    ({ signal }) => {
      signals.push(signal);
      return untilAborted(signal);
    },
  ]);
  assert.equal(err, boom);
  assert.equal(results, undefined);
  assert.equal(signals.length, 2);
  for (const signal of signals) {
    assert.equal(signal.aborted, true);
    assert.ok(signal.reason instanceof AbortError);
  }
  // the siblings have settled by the time parallel() resolves
  assert.equal(s.taskCount, 0);
  assert.equal(s.signal.aborted, false);
  await dispose(s);
});

test("parallel: after a failure no further factory is started", async () => {
  const s = scope();
  const started: number[] = [];
  const [err] = await s.parallel(
    [0, 1, 2, 3, 4].map((i) => async () => {
      started.push(i);
      await tick();
      if (i === 0) throw new Error("first fails");
      return i;
    }),
    { concurrency: 1 },
  );
  assert.equal(err?.message, "first fails");
  assert.deepEqual(started, [0]);
  await dispose(s);
});

test("parallel: concurrency runs exactly that many factories at once", async () => {
  const s = scope();
  let running = 0;
  let max = 0;
  const [err, results] = await s.parallel(
    Array.from({ length: 12 }, (_, i) => async () => {
      running++;
      max = Math.max(max, running);
      await sleep(i % 4 === 0 ? 4 : 1);
      running--;
      return i;
    }),
    { concurrency: 3 },
  );
  assert.equal(err, undefined);
  assert.equal(max, 3);
  assert.deepEqual(results, Array.from({ length: 12 }, (_, i) => i));
  await dispose(s);
});

test("parallel: without concurrency every factory starts at once", async () => {
  const s = scope();
  let running = 0;
  let max = 0;
  await s.parallel(Array.from({ length: 6 }, () => async () => {
    running++;
    max = Math.max(max, running);
    await tick();
    running--;
  }));
  assert.equal(max, 6);
  await dispose(s);
});

test("parallel: continueOnError never fails and gives each factory's own Result", async () => {
  const s = scope();
  const boom = new RangeError("boom");
  const [err, results] = await s.parallel([
    () => 1,
    () => {
      throw boom;
    },
    async () => "three",
  ], { continueOnError: true });
  assert.equal(err, undefined);
  assert.deepEqual(results, [[undefined, 1], [boom, undefined], [undefined, "three"]]);
  await dispose(s);
});

test("parallel: continueOnError with concurrency still runs every factory", async () => {
  const s = scope();
  let running = 0;
  let max = 0;
  const [, results] = await s.parallel(
    Array.from({ length: 6 }, (_, i) => async () => {
      running++;
      max = Math.max(max, running);
      await tick();
      running--;
      if (i % 2) throw new Error(`odd ${i}`);
      return i;
    }),
    { continueOnError: true, concurrency: 2 },
  );
  assert.equal(max, 2);
  assert.equal(results?.length, 6);
  results?.forEach((r, i) => {
    if (i % 2) assert.equal(r[0]?.message, `odd ${i}`);
    else assert.deepEqual(r, [undefined, i]);
  });
  await dispose(s);
});

test("parallel: the timeout fails with a TimeoutError and aborts what is still running", async () => {
  const s = scope();
  const signals: AbortSignal[] = [];
  const [err] = await alive(s.parallel([
    () => 1,
    ({ signal }) => {
      signals.push(signal);
      return untilAborted(signal);
    },
  ], { timeout: 10 }));
  assert.ok(err instanceof TimeoutError);
  assert.equal(signals[0]?.aborted, true);
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("parallel: the scope aborting fails it with the scope's reason", async () => {
  const s = scope();
  const p = s.parallel([
    ({ signal }) => untilAborted(signal),
    ({ signal }) => untilAborted(signal),
  ]);
  const reason = new Error("scope gone");
  s.cancel(reason);
  const [err] = await p;
  assert.equal(err, reason);
  await dispose(s);
});

test("parallel: on a disposed scope no factory runs and it fails with the scope's reason", async () => {
  const s = scope();
  await dispose(s);
  let called = false;
  const [err] = await s.parallel([() => {
    called = true;
  }]);
  assert.equal(called, false);
  assert.equal(err, s.signal.reason);
});

// ---------------------------------------------------------------- race

test("race: the first success decides and the others are aborted", async () => {
  const s = scope();
  const signals: AbortSignal[] = [];
  const [err, value] = await s.race([
    ({ signal }) => {
      signals.push(signal);
      return untilAborted<string>(signal);
    },
    async () => {
      await tick();
      return "fast";
    },
    ({ signal }) => {
      signals.push(signal);
      return untilAborted<string>(signal);
    },
  ]);
  assert.equal(err, undefined);
  assert.equal(value, "fast");
  assert.equal(signals.length, 2);
  assert.ok(signals.every((sig) => sig.aborted && sig.reason instanceof AbortError));
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("race: the first failure decides too, and the others are aborted", async () => {
  const s = scope();
  const boom = new RangeError("first to settle");
  let loser: AbortSignal | undefined;
  const [err] = await s.race<string>([
    ({ signal }) => {
      loser = signal;
      return untilAborted(signal);
    },
    async () => {
      await tick();
      throw boom;
    },
  ]);
  assert.equal(err, boom);
  assert.equal(loser?.aborted, true);
  await dispose(s);
});

test("race: each factory is called once", async () => {
  const s = scope();
  const calls = [0, 0];
  await s.race([
    async () => {
      calls[0]!++;
      await tick();
      throw new Error("x");
    },
    async ({ signal }) => {
      calls[1]!++;
      await sleep(5);
      signal.throwIfAborted();
      return 1;
    },
  ]);
  await sleep(10);
  assert.deepEqual(calls, [1, 1]);
  await dispose(s);
});

test("race: empty input is a failure with a clear message", async () => {
  const s = scope();
  const [err, value] = await s.race([]);
  assert.ok(err instanceof Error);
  assert.match(err.message, /empty/);
  assert.equal(value, undefined);
  await dispose(s);
});

test("race: the timeout fails with a TimeoutError and aborts every factory", async () => {
  const s = scope();
  const signals: AbortSignal[] = [];
  const [err] = await alive(s.race([({ signal }) => {
    signals.push(signal);
    return untilAborted(signal);
  }], { timeout: 10 }));
  assert.ok(err instanceof TimeoutError);
  assert.equal(signals[0]?.aborted, true);
  await dispose(s);
});

// ---------------------------------------------------------------- any

test("any: the first success wins even after failures, and the others are aborted", async () => {
  const s = scope();
  let loser: AbortSignal | undefined;
  const [err, value] = await s.any<string>([
    () => {
      throw new Error("fails at once");
    },
    async () => {
      await sleep(2);
      return "winner";
    },
    ({ signal }) => {
      loser = signal;
      return untilAborted(signal);
    },
  ]);
  assert.equal(err, undefined);
  assert.equal(value, "winner");
  assert.equal(loser?.aborted, true);
  await dispose(s);
});

test("any: when every factory fails it fails with an AggregateError of all errors", async () => {
  const s = scope();
  const e1 = new RangeError("one");
  const e2 = new RangeError("two");
  const [err] = await s.any([
    async () => {
      await sleep(2);
      throw e1;
    },
    () => {
      throw e2;
    },
  ]);
  assert.ok(err instanceof AggregateError);
  assert.deepEqual(err.errors, [e1, e2]);
  await dispose(s);
});

test("any: empty input is a failure with a clear message", async () => {
  const s = scope();
  const [err] = await s.any([]);
  assert.ok(err instanceof Error);
  assert.match(err.message, /empty/);
  await dispose(s);
});

test("any: the timeout fails with a TimeoutError and aborts every factory", async () => {
  const s = scope();
  const signals: AbortSignal[] = [];
  const [err] = await alive(s.any([
    () => {
      throw new Error("no");
    },
    ({ signal }) => {
      signals.push(signal);
      return untilAborted(signal);
    },
  ], { timeout: 10 }));
  assert.ok(err instanceof TimeoutError);
  assert.equal(signals[0]?.aborted, true);
  assert.equal(s.taskCount, 0);
  await dispose(s);
});

test("parallel: factories count against the scope's own concurrency limit", async () => {
  const s = scope({ concurrency: 2 });
  let running = 0;
  let max = 0;
  const [err] = await s.parallel(Array.from({ length: 6 }, () => async () => {
    running++;
    max = Math.max(max, running);
    await sleep(1);
    running--;
  }));
  assert.equal(err, undefined);
  assert.equal(max, 2);
  await dispose(s);
});

test("parallel: factories go through the scope's circuit breaker", async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2 });
  const s = scope({ circuitBreaker: breaker });
  const [err, results] = await s.parallel([
    () => Promise.reject(new Error("a")),
    () => Promise.reject(new Error("b")),
  ], { continueOnError: true });
  assert.equal(err, undefined);
  assert.equal(results?.length, 2);
  assert.equal(breaker.state, "open");
  await dispose(s);
});
