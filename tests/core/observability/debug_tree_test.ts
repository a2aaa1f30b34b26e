// scope.debugTree: ASCII and Mermaid renderings of the live tree, states,
// task and child counts, disposed children leaving, bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { scope } from "../../../src/core/mod.ts";
import { deferred, dispose } from "../_helpers.ts";

test("debugTree: ASCII shows names, nesting, child and task counts", async () => {
  await using app = scope({ name: "app" });
  const req = app.createChild({ name: "request" });
  req.createChild({ name: "db" });
  app.createChild({ name: "cache" });
  const gate = deferred();
  const t = req.task(() => gate.promise);
  assert.equal(
    app.debugTree(),
    [
      "📦 app [children:2]",
      "├─ 📦 request [tasks:1, children:1]",
      "│  └─ 📦 db",
      "└─ 📦 cache",
    ].join("\n"),
  );
  assert.equal(app.debugTree({ includeStats: false }).split("\n")[1], "├─ 📦 request");
  gate.resolve();
  await t;
});

test("debugTree: aborted scopes are marked, disposed children leave the tree", async () => {
  await using app = scope({ name: "app" });
  const a = app.createChild({ name: "a" });
  const b = app.createChild({ name: "b" });
  a.cancel();
  assert.match(app.debugTree(), /⚠️ a/);
  await dispose(b);
  assert.doesNotMatch(app.debugTree(), /b/);
});

test("debugTree: Mermaid is a graph TD with one node per scope and an edge per child", async () => {
  await using app = scope({ name: "app" });
  const child = app.createChild({ name: 'say "hi"' });
  child.cancel();
  const text = app.debugTree({ format: "mermaid" });
  assert.equal(
    text,
    [
      "graph TD",
      '    scope_0["📦 app"]',
      '    scope_1["⚠️ say #quot;hi#quot;"]',
      "    style scope_1 fill:#ffeecc,stroke:#cc9900",
      "    scope_0 --> scope_1",
    ].join("\n"),
  );
});

test("debugTree: bad options throw naming the option", () => {
  const s = scope();
  assert.throws(() => s.debugTree({ format: "svg" as never }), {
    message: `Cannot render debug tree: "format" must be one of 'ascii', 'mermaid', received "svg"`,
  });
});
