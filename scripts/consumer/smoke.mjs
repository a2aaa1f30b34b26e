// ESM smoke test of the installed package: run by scripts/build_npm.ts --pack in a fresh project.
import assert from "node:assert/strict";
import Fastify from "fastify";
import plugin, { fastifyGoGoScope } from "@go-go-scope/adapter-fastify";
import * as core from "@go-go-scope/adapter-fastify/core";
import { createTimeController } from "@go-go-scope/adapter-fastify/testing";

assert.equal(plugin, fastifyGoGoScope, "the default export is fastifyGoGoScope");
assert.equal(typeof core.scope, "function", "the ./core subpath exports scope()");

const app = Fastify();
await app.register(fastifyGoGoScope, { name: "smoke-esm" });
assert.ok(app.scope, "fastify.scope exists after register");
app.get("/", async (request) => {
  const [err, v] = await request.scope.task(() => 42);
  if (err) throw err;
  return { v };
});

const injected = await app.inject("/");
assert.equal(injected.statusCode, 200);
assert.deepEqual(injected.json(), { v: 42 });

const address = await app.listen({ host: "127.0.0.1", port: 0 });
const response = await fetch(address);
assert.equal(response.status, 200);
assert.deepEqual(await response.json(), { v: 42 });
await app.close();

const s = core.scope();
const [err, v] = await s.task(() => "core");
assert.equal(err, undefined);
assert.equal(v, "core");
await s[Symbol.asyncDispose]();

const time = createTimeController();
time.install();
const timed = core.scope({ timeout: 60_000 });
await time.advance(60_000);
assert.equal(timed.isAborted, true, "the ./testing subpath's virtual clock drives the core");
await timed[Symbol.asyncDispose]();
time.uninstall();
console.log("ESM smoke test passed");
