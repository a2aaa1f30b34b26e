// The scope's feature methods live in scope_features.ts: Scope inherits them, and a Scope is the
// Host those methods hand to the feature files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Scope, scope } from "../../src/core/mod.ts";
import { type Host, ScopeFeatures } from "../../src/core/scope_features.ts";

test("scope features: a Scope is a ScopeFeatures and still a Scope, with no own enumerable keys", async () => {
  await using s = scope({ name: "features" });
  assert.ok(s instanceof Scope);
  assert.ok(s instanceof ScopeFeatures);
  assert.equal(Object.getPrototypeOf(Scope.prototype), ScopeFeatures.prototype);
  assert.deepEqual(Object.keys(s), []);
});

test("scope features: a Scope is the Host the feature methods pass on (checked by the type checker)", async () => {
  await using s = scope({ name: "host" });
  const host: Host = s;
  assert.equal(host.name, "host");
  s.setContext("k", 1);
  assert.equal(s.getContext("k"), 1);
  assert.equal(s.requestContext.k, 1);
  assert.equal(s.semaphore(1).available, 1);
});

test("scope features: scopeName is the scope's name, createChild's included", async () => {
  await using s = scope({ name: "grandparent" });
  const parent = s.createChild({ name: "parent" });
  const child = parent.createChild({ name: "child" });
  assert.deepEqual([s.scopeName, parent.scopeName, child.scopeName], [
    "grandparent",
    "parent",
    "child",
  ]);
  assert.equal(scope().scopeName.startsWith("scope-"), true);
});
