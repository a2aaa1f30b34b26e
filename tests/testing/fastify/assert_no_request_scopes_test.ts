// assertNoRequestScopes: passes once every request scope is disposed, and
// otherwise names what is left (with a probe), or prints the root's tree.
import { describe, it } from "node:test";
import assert, { AssertionError } from "node:assert/strict";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../../src/fastify/mod.ts";
import {
  assertNoRequestScopes,
  createTimeController,
  flushPromises,
  probeRequests,
} from "../../../src/testing/mod.ts";

function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe("assertNoRequestScopes", () => {
  it("passes once requests are over, with or without a probe", async () => {
    for (const probed of [true, false]) {
      const app = Fastify();
      await app.register(fastifyGoGoScope);
      if (probed) probeRequests(app);
      app.get("/", async (request) => (await request.scope.task(() => "ok"))[1]);
      try {
        await app.inject("/");
        await app.inject("/");
        await assertNoRequestScopes(app);
      } finally {
        await app.close();
      }
    }
  });

  it("with a probe: names each request scope left alive, then passes once it is gone", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    probeRequests(app);
    const held = gate();
    app.get("/hang", async (request) => {
      await request.scope.task(() => held.promise, { name: "held" });
      return "released";
    });
    try {
      const pending = app.inject("/hang");
      await flushPromises();
      await assert.rejects(assertNoRequestScopes(app, { timeout: 30 }), (err: unknown) => {
        assert.ok(err instanceof AssertionError);
        assert.match(
          err.message,
          /^1 request scope\(s\) still alive after 30 ms:\n {2}request-\S+ \(GET \/hang, phases onRequest > .* > handler\): not aborted; pending tasks: held$/,
        );
        return true;
      });
      held.open();
      assert.equal((await pending).body, "released");
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("waits for a scope still being disposed (a slow cleanup) within the timeout", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    probeRequests(app);
    let cleaned = false;
    app.get("/", async (request) => {
      request.scope.onDispose(() =>
        new Promise<void>((r) => setTimeout(() => (cleaned = true, r()), 30))
      );
      return "ok";
    });
    try {
      await app.inject("/");
      await assertNoRequestScopes(app, { timeout: 1000 });
      assert.equal(cleaned, true);
    } finally {
      await app.close();
    }
  });

  it("without a probe: counts app.scope's children and prints its tree", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, { name: "api" });
    await app.ready();
    const child = app.scope.createChild({ name: "leaked-job" });
    try {
      await assert.rejects(assertNoRequestScopes(app, { timeout: 0 }), (err: unknown) => {
        assert.ok(err instanceof AssertionError);
        assert.match(err.message, /^1 child scope\(s\) of "api" still alive after 0 ms:\n/);
        assert.match(err.message, /leaked-job/);
        return true;
      });
      await child[Symbol.asyncDispose]();
      await assertNoRequestScopes(app, { timeout: 0 });
    } finally {
      await app.close();
    }
  });

  it("with the virtual clock installed: works, and says so when a scope is left", async () => {
    using time = createTimeController();
    time.install();
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    probeRequests(app);
    app.get("/", async (request) => {
      await request.scope.task(() => new Promise((r) => setTimeout(r, 1_000)), { name: "sleep" });
      return "woke";
    });
    try {
      const pending = app.inject("/");
      await flushPromises();
      await assert.rejects(
        assertNoRequestScopes(app, { timeout: 20 }),
        /pending tasks: sleep\n\(a virtual clock is installed: work that waits on its timers needs advance\(\)\)$/,
      );
      await time.advance(1_000);
      assert.equal((await pending).body, "woke");
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("needs the plugin or a probe; rejects a bad timeout", async () => {
    const app = Fastify();
    try {
      await assert.rejects(
        assertNoRequestScopes(app),
        (err: unknown) => err instanceof TypeError && /register fastifyGoGoScope/.test(err.message),
      );
      await assert.rejects(
        assertNoRequestScopes(app, { timeout: -1 }),
        (err: unknown) => (err as { code?: string }).code === "GGS_ERR_INVALID_OPTION",
      );
    } finally {
      await app.close();
    }
  });
});
