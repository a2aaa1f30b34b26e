// Services: provide, use, has, override, ctx.services and their disposal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scope } from "../../../src/core/mod.ts";
import { dispose, tick } from "../_helpers.ts";

test("services: provide() chains and use() returns the value, here and in children", async () => {
  await using s = scope().provide("db", () => ({ conn: 1 })).provide("name", "app");
  assert.deepEqual(s.use("db"), { conn: 1 });
  assert.equal(s.use("name"), "app");
  const child = s.createChild();
  assert.equal(child.use("db"), s.use("db"));
  assert.equal(child.createChild().use("db").conn, 1);
});

test("services: a factory is called once, at provide(); a non-function value is stored as is", async () => {
  let calls = 0;
  await using s = scope().provide("n", () => ++calls).provide("list", [1, 2]);
  assert.equal(calls, 1);
  assert.equal(s.use("n"), 1);
  assert.equal(s.use("n"), 1);
  assert.deepEqual(s.use("list"), [1, 2]);
});

test("services: use() of a key nobody provides is undefined", async () => {
  await using s = scope();
  const loose = s.createChild() as unknown as { use(key: string): unknown };
  assert.equal(loose.use("missing"), undefined);
});

test("services: has() looks up ancestors and is false once disposed", async () => {
  const parent = scope().provide("db", 1);
  const child = parent.createChild().provide("cache", 2);
  assert.equal(child.has("db"), true);
  assert.equal(child.has("cache"), true);
  assert.equal((parent as unknown as { has(k: string): boolean }).has("cache"), false);
  await dispose(parent);
  assert.equal(child.has("db"), false);
  assert.equal(parent.has("db"), false);
});

test("services: a child sees services its parent provides after the child was created", async () => {
  await using parent = scope();
  const child = parent.createChild();
  parent.provide("late", "yes");
  assert.equal((child as unknown as { use(k: string): unknown }).use("late"), "yes");
});

test("services: a child's provide() shadows the parent's for that child only", async () => {
  await using s = scope().provide("k", "parent");
  const child = s.createChild().provide("k", "child");
  assert.equal(child.use("k"), "child");
  assert.equal(s.use("k"), "parent");
});

test("services: singleton keeps the visible value and does not call the factory", async () => {
  await using s = scope().provide("k", () => "first");
  let called = false;
  const again = s.createChild().provide("k", () => {
    called = true;
    return "second";
  }, { singleton: true });
  assert.equal(called, false);
  assert.equal(again.use("k"), "first");
  const fresh = scope().provide("x", () => "made", { singleton: true });
  assert.equal(fresh.use("x"), "made");
  await dispose(fresh);
});

test("services: tasks get the services as ctx.services", async () => {
  await using s = scope().provide("db", { query: (q: string) => `rows of ${q}` });
  const child = s.createChild().provide("user", "ann");
  const [err, out] = await child.task(({ services }) =>
    `${services.db.query("t")} for ${services.user}`
  );
  assert.equal(err, undefined);
  assert.equal(out, "rows of t for ann");
  const [, none] = await scope().task(({ services }) => Object.keys(services));
  assert.deepEqual(none, []);
});

test("services: ctx.services shows a later override", async () => {
  await using s = scope().provide("v", 1);
  const [, first] = await s.task(({ services }) => services.v);
  s.override("v", 2);
  const [, second] = await s.task(({ services }) => services.v);
  assert.deepEqual([first, second], [1, 2]);
});

test("services: override() replaces the value, chains, and may be a factory", async () => {
  await using s = scope().provide("clock", () => "real");
  assert.equal(s.override("clock", () => "fake"), s);
  assert.equal(s.use("clock"), "fake");
  const child = s.createChild();
  child.override("clock", "child-fake");
  assert.equal(child.use("clock"), "child-fake");
  assert.equal(s.use("clock"), "fake");
});

test("services: override() of a key never provided throws, naming the key", async () => {
  await using s = scope({ name: "svc" });
  const loose = s as unknown as { override(k: string, v: unknown): unknown };
  // Starts with go-go-scope's wording ("Cannot override service 'db': it was not provided").
  assert.throws(() => loose.override("mailer", {}), {
    message:
      `Cannot override service 'mailer': it was not provided to scope "svc" or its ancestors; call provide() first`,
  });
});

test("services: provide() and override() on a disposed scope throw", async () => {
  const s = scope().provide("k", 1);
  await dispose(s);
  assert.throws(() => s.provide("j", 2), /disposed/);
  assert.throws(() => s.override("k", 3), /disposed/);
  // go-go-scope's wording, then the scope and the key.
  assert.throws(() => s.override("k", 3), {
    message: `Cannot override service on disposed scope "${s.name}" (service 'k')`,
  });
  assert.throws(() => s.provide("j", 2), {
    message: `Cannot provide service on disposed scope "${s.name}" (service 'j')`,
  });
});

test("services: disposers run last provided first, interleaved with onDispose, children first", async () => {
  const order: string[] = [];
  const s = scope()
    .provide("a", () => "A", { dispose: (v) => void order.push(v) })
    .provide("b", async () => "B", {
      dispose: async (v) => {
        await tick();
        order.push(v);
      },
    });
  s.onDispose(() => void order.push("cleanup"));
  s.override("a", "A2", { dispose: (v) => void order.push(v) });
  s.createChild().provide("c", "C", { dispose: (v) => void order.push(v) });
  await dispose(s);
  assert.deepEqual(order, ["C", "A2", "cleanup", "B", "A"]);
});

test("services: a rejected async factory skips its disposer; a throwing disposer fails disposal", async () => {
  const s = scope();
  const failed = Promise.reject(new Error("no connection"));
  failed.catch(() => {});
  let disposed = false;
  s.provide("conn", () => failed, { dispose: () => void (disposed = true) });
  s.provide("bad", 1, {
    dispose: () => {
      throw new RangeError("close failed");
    },
  });
  await assert.rejects(dispose(s), RangeError);
  assert.equal(disposed, false);
});

test("services: bad keys and options are TypeErrors naming them", async () => {
  await using s = scope();
  const loose = s as unknown as {
    provide(k: unknown, v: unknown, o?: unknown): unknown;
    use(k: unknown): unknown;
    has(k: unknown): unknown;
  };
  const cases: [() => unknown, RegExp][] = [
    [() => loose.provide(1, 1), /"key" must be a string or symbol, received 1/],
    [() => loose.provide("k", 1, "x"), /"options" must be an object/],
    [() => loose.provide("k", 1, { singleton: "yes" }), /"singleton" must be a boolean/],
    [() => loose.provide("k", 1, { dispose: 3 }), /"dispose" must be a function/],
    [() => loose.use(null), /"key"/],
    [() => loose.has({}), /"key"/],
  ];
  for (const [call, message] of cases) {
    assert.throws(call, (e: unknown) => e instanceof TypeError && message.test(e.message));
  }
});
