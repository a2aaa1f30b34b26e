// CommonJS smoke test of the installed package: run by scripts/build_npm.ts --pack.
"use strict";
const assert = require("node:assert/strict");
const Fastify = require("fastify");
const pkg = require("@go-go-scope/adapter-fastify");
const core = require("@go-go-scope/adapter-fastify/core");
const testing = require("@go-go-scope/adapter-fastify/testing");

async function main() {
  const { fastifyGoGoScope } = pkg;
  assert.equal(typeof fastifyGoGoScope, "function", "fastifyGoGoScope is exported");
  assert.equal(pkg.default, fastifyGoGoScope, "the default export is fastifyGoGoScope");
  assert.equal(typeof core.scope, "function", "the ./core subpath exports scope()");

  const app = Fastify();
  await app.register(fastifyGoGoScope, { name: "smoke-cjs" });
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

  const time = testing.createTimeController();
  time.install();
  const timed = core.scope({ timeout: 60_000 });
  await time.advance(60_000);
  assert.equal(timed.isAborted, true, "the ./testing subpath's virtual clock drives the core");
  await timed[Symbol.asyncDispose]();
  time.uninstall();
  console.log("CommonJS smoke test passed");
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
