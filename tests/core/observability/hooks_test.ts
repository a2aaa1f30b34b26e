// The hooks scope option: beforeTask/afterTask around tasks, onCancel,
// beforeDispose/afterDispose order, throwing hooks logged, bad input; and the
// small parity getters (requestContext, metrics).
import { test } from "node:test";
import assert from "node:assert/strict";
import { scope } from "../../../src/core/mod.ts";
import { dispose, recordingLogger } from "../_helpers.ts";

test("hooks: beforeTask and afterTask see each task's name, duration and error", async () => {
  const seen: unknown[] = [];
  await using s = scope({
    hooks: {
      beforeTask: (name) => seen.push(["before", name]),
      afterTask: (name, ms, error) =>
        seen.push(["after", name, ms >= 0, (error as Error | undefined)?.message]),
    },
  });
  await s.task(() => 1, { name: "ok" });
  await s.task(() => {
    throw new Error("nope");
  }, { name: "bad" });
  await Promise.resolve();
  assert.deepEqual(seen, [
    ["before", "ok"],
    ["after", "ok", true, undefined],
    ["before", "bad"],
    ["after", "bad", true, "nope"],
  ]);
});

test("hooks: onCancel gets the reason; disposal runs beforeDispose, cleanups, afterDispose", async () => {
  const order: string[] = [];
  const s = scope({
    hooks: {
      onCancel: (reason) => order.push(`cancel:${(reason as Error).message}`),
      beforeDispose: () => order.push("before"),
      afterDispose: () => order.push("after"),
    },
  });
  s.onDispose(() => void order.push("cleanup"));
  await dispose(s);
  assert.deepEqual(order, ["cancel:Scope disposed", "before", "cleanup", "after"]);
});

test("hooks: onDispose is told after each service disposer, with its index and error", async () => {
  const calls: [number, string | undefined][] = [];
  const s = scope({
    hooks: {
      onDispose: (index, error) => calls.push([index, (error as Error | undefined)?.message]),
    },
  })
    .provide("db", () => ({ close() {} }), { dispose: () => {} })
    .provide("plain", 1) // no disposer: no index
    .provide("cache", () => 2, {
      dispose: () => {
        throw new Error("cache close failed");
      },
    });
  s.override("db", { close() {} }, { dispose: () => {} });
  s.onDispose(() => {}); // a cleanup, not a service: not reported
  await assert.rejects(s[Symbol.asyncDispose](), { message: "cache close failed" });
  // Last registered first, as the disposers run.
  assert.deepEqual(calls, [[3, undefined], [2, "cache close failed"], [1, undefined]]);
});

test("hooks: a throwing onDispose is logged and disposal goes on", async () => {
  const logger = recordingLogger();
  const s = scope({
    logger,
    hooks: {
      onDispose: () => {
        throw new Error("hook bug");
      },
    },
  });
  s.provide("k", 1, { dispose: () => {} });
  await dispose(s);
  assert.equal(logger.calls[0]?.msg, "scope hook threw");
  assert.equal((logger.calls[0]?.obj as { hook: string }).hook, "onDispose");
});

test("hooks: a throwing hook is logged and the task still resolves", async () => {
  const logger = recordingLogger();
  await using s = scope({
    logger,
    hooks: {
      beforeTask: () => {
        throw new Error("hook bug");
      },
    },
  });
  assert.deepEqual(await s.task(() => 5), [undefined, 5]);
  assert.equal(logger.calls[0]?.msg, "scope hook threw");
});

test("hooks: children do not inherit them; bad hooks throw naming the option", async () => {
  let n = 0;
  await using s = scope({ hooks: { beforeTask: () => n++ } });
  await s.createChild().task(() => 1);
  assert.equal(n, 0);
  assert.throws(() => scope({ hooks: { beforeTask: 1 } as never }), {
    message: 'Cannot create scope: "hooks.beforeTask" must be a function, received 1',
  });
  assert.throws(() => scope({ hooks: { onTask() {} } as never }), {
    message: /unknown option "onTask"/,
  });
});

test("requestContext is the context record; metrics() is undefined as upstream", async () => {
  await using s = scope({ context: { user: 1 } });
  assert.deepEqual(s.requestContext, { user: 1 });
  assert.equal(s.metrics(), undefined);
});
