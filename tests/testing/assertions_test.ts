// expectTask, assertResolves, assertRejects, assertResolvesWithin and
// assertScopeDisposed: their passes, their failures (AssertionError with
// go-go-scope's messages), and the "within" limits on a virtual clock.
import { describe, it } from "node:test";
import assert, { AssertionError } from "node:assert/strict";
import { type Scope, scope, TimeoutError } from "../../src/core/mod.ts";
import {
  assertRejects,
  assertResolves,
  assertResolvesWithin,
  assertScopeDisposed,
  createTimeController,
  expectTask,
} from "../../src/testing/mod.ts";

const failsWith = (message: string | RegExp) => (err: unknown) => {
  assert.ok(err instanceof AssertionError, `an AssertionError, got ${String(err)}`);
  if (typeof message === "string") assert.equal(err.message, message);
  else assert.match(err.message, message);
  return true;
};

describe("expectTask", () => {
  it("toResolve / toResolveWith (deep equality) pass and fail", async () => {
    await using s = scope();
    await expectTask(s.task(() => 1)).toResolve();
    await expectTask(s.task(() => ({ id: 1, tags: ["a"] }))).toResolveWith({ id: 1, tags: ["a"] });
    await assert.rejects(
      expectTask(s.task(() => ({ id: 1 }))).toResolveWith({ id: 2 }),
      failsWith(/^Expected task to resolve with \{ id: 2 \}, but got \{ id: 1 \}/),
    );
    await assert.rejects(
      expectTask(s.task(() => Promise.reject(new Error("nope")))).toResolve(),
      failsWith("Expected task to resolve, but rejected: nope"),
    );
    await assert.rejects(
      expectTask(s.task((): Promise<number> => Promise.reject(new Error("nope")))).toResolveWith(1),
      failsWith("Expected task to resolve with 1, but rejected: nope"),
    );
  });

  it("toReject / toRejectWith (string or RegExp) / toRejectWithType pass and fail", async () => {
    await using s = scope();
    const failing = () => s.task(() => Promise.reject(new TypeError("bad input")));
    await expectTask(failing()).toReject();
    await expectTask(failing()).toRejectWith("bad input");
    await expectTask(failing()).toRejectWith(/bad/);
    await expectTask(failing()).toRejectWithType(TypeError);
    await assert.rejects(
      expectTask(failing()).toRejectWith("other"),
      failsWith('Expected error message "other", but got "bad input"'),
    );
    await assert.rejects(
      expectTask(failing()).toRejectWithType(RangeError),
      failsWith("Expected error to be instance of RangeError, but got TypeError"),
    );
    await assert.rejects(
      expectTask(s.task(() => 1)).toReject(),
      failsWith("Expected task to reject, but resolved successfully"),
    );
    await assert.rejects(
      expectTask(s.task(() => 1)).toRejectWith("x"),
      failsWith('Expected task to reject with "x", but resolved successfully'),
    );
    await assert.rejects(
      expectTask(s.task(() => 1)).toRejectWithType(TimeoutError),
      failsWith("Expected task to reject with TimeoutError, but resolved successfully"),
    );
  });

  it("awaits the task once; result() gives the Result", async () => {
    await using s = scope();
    let runs = 0;
    const check = expectTask(s.task(() => ++runs));
    await check.toResolve();
    await check.toResolveWith(1);
    assert.deepEqual(await check.result(), [undefined, 1]);
    assert.equal(runs, 1);
  });

  it("toResolveWithin: real time without a virtual clock (no timer left behind)", async () => {
    await using s = scope();
    await expectTask(s.task(() => "fast")).toResolveWithin(1000).toResolveWith("fast");
    await assert.rejects(
      expectTask(s.task(() => new Promise(() => {}))).toResolveWithin(20).toResolve(),
      failsWith("Task did not resolve within 20ms"),
    );
  });

  it("toResolveWithin: virtual time with a virtual clock installed (the check advances it)", async () => {
    using time = createTimeController();
    time.install();
    await using s = scope();
    const slow = () => s.task(() => new Promise((r) => setTimeout(() => r("late"), 50_000)));
    await expectTask(slow()).toResolveWithin(60_000).toResolveWith("late");
    assert.equal(time.now, 50_000, "stopped as soon as the task settled");
    await assert.rejects(
      expectTask(slow()).toResolveWithin(40_000).toResolve(),
      failsWith("Task did not resolve within 40000ms"),
    );
    assert.equal(time.now, 90_000);
  });
});

describe("assertResolves / assertRejects", () => {
  it("return the Result or the error; fail otherwise", async () => {
    await using s = scope();
    assert.deepEqual(await assertResolves(s.task(() => "done")), [undefined, "done"]);
    await assert.rejects(
      assertResolves(s.task(() => Promise.reject(new Error("fail")))),
      failsWith("Expected task to resolve, but rejected: fail"),
    );
    const err = await assertRejects(s.task(() => Promise.reject(new Error("fail"))));
    assert.equal(err.message, "fail");
    await assert.rejects(
      assertRejects(s.task(() => 1)),
      failsWith("Expected task to reject, but resolved successfully"),
    );
  });
});

describe("assertResolvesWithin", () => {
  it("returns the Result (errors included) when the task settles in time", async () => {
    await using s = scope();
    assert.deepEqual(await assertResolvesWithin(s.task(() => 2), 1000), [undefined, 2]);
    const [err] = await assertResolvesWithin(s.task(() => Promise.reject(new Error("x"))), 1000);
    assert.equal(err?.message, "x");
  });

  it("fails when it does not, in real time", async () => {
    await using s = scope();
    await assert.rejects(
      assertResolvesWithin(s.task(() => new Promise(() => {})), 15),
      failsWith("Task did not resolve within 15ms"),
    );
  });

  it("with a virtual clock: advances it timer by timer, up to the limit", async () => {
    using time = createTimeController();
    time.install();
    await using s = scope();
    const attempts: number[] = [];
    const task = s.task(() => {
      attempts.push(Date.now());
      if (attempts.length < 3) throw new Error("flaky");
      return "ok";
    }, { retry: { max: 5, delay: 1_000 } });
    assert.deepEqual(await assertResolvesWithin(task, 10_000), [undefined, "ok"]);
    assert.deepEqual(attempts, [0, 1000, 2000]);
    assert.equal(time.now, 2000);
    const never = s.task(() => new Promise(() => {}));
    await assert.rejects(assertResolvesWithin(never, 5_000), failsWith(/within 5000ms/));
    assert.equal(time.now, 7000);
  });

  it("rejects a bad limit", () => {
    assert.throws(
      () => assertResolvesWithin(Promise.resolve([undefined, 1] as const), -1),
      RangeError,
    );
  });
});

describe("assertScopeDisposed", () => {
  it("disposes the scope and passes when everything is cleaned up", async () => {
    const s = scope();
    const child = s.createChild();
    const task = s.task(({ signal }) =>
      new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)))
    );
    await assertScopeDisposed(s);
    assert.ok(s.isDisposed);
    assert.ok(child.isDisposed);
    assert.ok(task.isSettled);
  });

  it("fails for each thing disposal left behind", async () => {
    // Scope-shaped fakes: what a broken scope would report after disposal.
    const fake = (state: Partial<Record<string, unknown>>) =>
      ({
        name: "fake",
        signal: AbortSignal.abort(),
        isDisposed: true,
        taskCount: 0,
        childCount: 0,
        [Symbol.asyncDispose]: () => Promise.resolve(),
        ...state,
      }) as unknown as Scope;
    await assertScopeDisposed(fake({}));
    await assert.rejects(
      assertScopeDisposed(fake({ signal: new AbortController().signal })),
      failsWith("Scope signal was not aborted after disposal"),
    );
    await assert.rejects(
      assertScopeDisposed(fake({ isDisposed: false })),
      failsWith("Scope did not report as disposed"),
    );
    await assert.rejects(
      assertScopeDisposed(fake({ taskCount: 1 })),
      failsWith('Scope "fake" still has 1 unsettled task(s) after disposal'),
    );
    await assert.rejects(
      assertScopeDisposed(fake({ childCount: 2 })),
      failsWith('Scope "fake" still has 2 child scope(s) after disposal'),
    );
  });
});
