// The scope's mutable context: setContext, getContext, hasContext,
// removeContext, getAllContext, inheritance and what tasks see.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scope } from "../../../src/core/mod.ts";
import { dispose } from "../_helpers.ts";

test("context: setContext chains and getContext reads the values back", async () => {
  await using s = scope();
  assert.equal(s.setContext("requestId", "abc").setContext("userId", 7), s);
  assert.equal(s.getContext("requestId"), "abc");
  assert.equal(s.getContext<number>("userId"), 7);
  assert.equal(s.getContext("missing"), undefined);
  assert.equal(s.hasContext("userId"), true);
  assert.equal(s.hasContext("missing"), false);
});

test("context: the context option is seen by getContext and overwritten by setContext", async () => {
  await using s = scope({ context: { tenant: "a", region: "eu" } });
  assert.equal(s.getContext("tenant"), "a");
  s.setContext("tenant", "b");
  assert.equal(s.getContext("tenant"), "b");
  assert.deepEqual(s.context, { tenant: "b", region: "eu" });
});

test("context: tasks see setContext values as ctx.context", async () => {
  await using s = scope({ context: { requestId: "r1" } });
  s.setContext("userId", 42);
  const [, seen] = await s.task(({ context }) => ({ ...context }));
  assert.deepEqual(seen, { requestId: "r1", userId: 42 });
});

test("context: a child sees its parent's values, even ones set later, and may shadow them", async () => {
  await using parent = scope({ context: { a: 1 } });
  const child = parent.createChild();
  parent.setContext("b", 2);
  assert.equal(child.getContext("a"), 1);
  assert.equal(child.getContext("b"), 2);
  child.setContext("b", "mine");
  assert.equal(child.getContext("b"), "mine");
  assert.equal(parent.getContext("b"), 2);
  const [, seen] = await child.task(({ context }) => context);
  assert.deepEqual(seen, { a: 1, b: "mine" });
});

test("context: removeContext removes for this scope and its children only, true when it was seen", async () => {
  await using parent = scope({ context: { a: 1 } });
  const child = parent.createChild();
  const grandchild = child.createChild();
  assert.equal(child.removeContext("a"), true);
  assert.equal(child.removeContext("a"), false);
  assert.equal(child.removeContext("never"), false);
  assert.equal(child.hasContext("a"), false);
  assert.equal(grandchild.getContext("a"), undefined);
  assert.equal(parent.getContext("a"), 1);
  assert.deepEqual(child.getAllContext(), {});
  child.setContext("a", 3);
  assert.equal(grandchild.getContext("a"), 3);
});

test("context: getAllContext is a plain copy that includes inherited keys", async () => {
  await using parent = scope({ context: { a: 1 } });
  const child = parent.createChild({ context: { b: 2 } });
  child.setContext("c", 3);
  const all: Record<string, unknown> = child.getAllContext();
  assert.deepEqual({ ...all }, { a: 1, b: 2, c: 3 });
  child.setContext("d", 4);
  assert.equal("d" in all, false, "a copy, not a live view");
  // As go-go-scope's: the caller may change its copy; the scope does not see it.
  assert.equal(Object.isFrozen(all), false);
  all.a = 10;
  all.x = 1;
  assert.equal(child.getContext("a"), 1);
  assert.equal(child.hasContext("x"), false);
  assert.notEqual(child.getAllContext(), child.getAllContext(), "a new copy each call");
});

test("context: scope.context follows changes and stays frozen", async () => {
  await using s = scope();
  const before = s.context;
  s.setContext("k", "v");
  assert.deepEqual(before, {});
  assert.deepEqual(s.context, { k: "v" });
  assert.ok(Object.isFrozen(s.context));
  assert.equal(s.context, s.context, "cached while nothing changes");
});

test("context: setContext on a disposed scope throws, naming the scope", async () => {
  const s = scope({ name: "gone" });
  await dispose(s);
  assert.throws(() => s.setContext("k", 1), {
    message: 'Cannot set context on disposed scope "gone"',
  });
  assert.equal(s.getContext("k"), undefined);
});

test('context: a non-string key is a TypeError naming "key"', async () => {
  await using s = scope();
  for (
    const call of [
      () => s.setContext(1 as never, 1),
      () => s.getContext(null as never),
      () => s.hasContext({} as never),
      () => s.removeContext(Symbol("k") as never),
    ]
  ) {
    assert.throws(
      call,
      (e: unknown) => e instanceof TypeError && /"key" must be a string/.test(e.message),
    );
  }
});
