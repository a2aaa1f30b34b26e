// When the plugin creates the request scope: on the first read of
// `request.scope`, unless a deadline or a trace makes it start in onRequest;
// and that a scope created late still ends with the response.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { ClientDisconnectedError, type Scope, scope, TimeoutError } from "../../src/core/mod.ts";
import {
  deferred,
  listen,
  request,
  requestAndLeave,
  sleep,
  untilAborted,
  waitFor,
} from "./_helpers.ts";

describe("plugin: when the request scope is created", () => {
  it("a request that never reads request.scope creates none; the first read creates it", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    const seen: number[] = [];
    app.get("/plain", async () => {
      seen.push(app.scope.childCount);
      return "plain";
    });
    app.get("/scoped", async (request) => {
      seen.push(app.scope.childCount);
      const first = request.scope;
      seen.push(app.scope.childCount);
      assert.equal(request.scope, first, "one scope per request");
      return first.name;
    });
    assert.equal((await app.inject("/plain")).body, "plain");
    const scoped = await app.inject("/scoped");
    assert.match(scoped.body, /^request-/);
    assert.deepEqual(seen, [0, 0, 1]);
    await waitFor(() => app.scope.childCount === 0, "the request scope released");
  });

  it("with the plugin's timeout it starts in onRequest: the deadline counts from the request's arrival", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope, { timeout: 30 });
    app.addHook("preHandler", async () => {
      await sleep(80); // slower than the deadline, and never reads request.scope
    });
    app.get("/", async (request) => {
      const reason = request.scope.abortReason;
      return { timedOut: reason instanceof TimeoutError };
    });
    assert.deepEqual((await app.inject("/")).json(), { timedOut: true });
  });

  it("a route's own timeout starts it in onRequest too; a route without one stays lazy", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    const counts: number[] = [];
    app.addHook("preHandler", async () => {
      counts.push(app.scope.childCount);
    });
    app.get("/budget", { config: { scope: { timeout: 1000 } } }, async (request) => {
      return request.scope.name;
    });
    app.get("/free", async (request) => request.scope.name);
    await app.inject("/budget");
    await app.inject("/free");
    assert.deepEqual(counts, [1, 0]);
  });

  // The client leaves while the request waits at a gate; the scope is read first either in the
  // handler after that (created late) or in a preHandler before it (created before the reply was
  // known, watched from the handler on). Either way the handler sees it cancelled.
  for (const firstRead of ["handler", "preHandler"] as const) {
    it(`a client that left before the handler ran (first read in the ${firstRead}): the scope is cancelled`, async (t) => {
      const app = Fastify();
      t.after(() => app.close());
      await app.register(fastifyGoGoScope);
      const entered = deferred();
      const gate = deferred();
      const outcome = deferred<Scope>();
      app.addHook("preHandler", async (request) => {
        if (firstRead === "preHandler") void request.scope;
        entered.resolve();
        await gate.promise;
      });
      app.get("/", async (request) => {
        outcome.resolve(request.scope);
        return "late";
      });
      const port = await listen(app);
      await requestAndLeave(port, "/", entered.promise);
      await sleep(20);
      gate.resolve();
      const seen = await outcome.promise;
      assert.ok(seen.abortReason instanceof ClientDisconnectedError, String(seen.abortReason));
      await waitFor(() => seen.isDisposed, "the scope disposed");
      assert.equal(app.scope.childCount, 0);
    });
  }

  it("a first read in onResponse, or after the response closed, still ends with it", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    const scopes: Scope[] = [];
    const afterClose = deferred<Scope>();
    app.addHook("onResponse", async (request) => {
      if (request.url === "/hook") scopes.push(request.scope);
    });
    app.get("/hook", async () => "hook");
    app.get("/later", async (request, reply) => {
      reply.raw.once("close", () => setTimeout(() => afterClose.resolve(request.scope), 5));
      return "later";
    });
    const port = await listen(app);
    assert.equal((await request(port, "/hook")).body, "hook");
    assert.equal((await request(port, "/later")).body, "later");
    scopes.push(await afterClose.promise);
    await waitFor(() => scopes.every((s) => s.isDisposed), "both late scopes disposed");
    for (const late of scopes) {
      assert.ok(!(late.abortReason instanceof ClientDisconnectedError), "not a disconnect");
    }
    assert.equal(app.scope.childCount, 0);
  });

  it("after an earlier onRequest hook replied, a read in onResponse still ends with the response", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    // Registered before the plugin: the plugin's onRequest never runs.
    app.addHook("onRequest", async (_request, reply) => {
      await reply.code(401).send("no");
    });
    await app.register(fastifyGoGoScope);
    let seen: Scope | undefined;
    app.addHook("onResponse", async (request) => {
      seen = request.scope;
    });
    app.get("/", async () => "yes");
    const port = await listen(app);
    const response = await request(port, "/");
    assert.equal(response.status, 401);
    await waitFor(() => seen?.isDisposed === true, "the scope disposed");
    assert.equal(app.scope.childCount, 0);
  });

  it("a scope a hook assigns before any was created ends with the response", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    const assigned: Scope[] = [];
    app.addHook("preHandler", async (request) => {
      const own = scope({ parent: app.scope, name: "mine" });
      assigned.push(own);
      request.scope = own;
    });
    app.get("/", async (request) => request.scope.name);
    assert.equal((await app.inject("/")).body, "mine");
    await waitFor(() => assigned[0]?.isDisposed === true, "the assigned scope disposed");
    assert.equal(app.scope.childCount, 0);
  });

  it("a scope first read in a preHandler is watched from the handler on: a client that leaves cancels it", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    const started = deferred();
    const outcome = deferred<{ error: Error | undefined; early: Scope }>();
    app.addHook("preHandler", async (request) => {
      request.scope.setContext("early", true); // the first read, before the reply is known
    });
    app.get("/", async (request) => {
      started.resolve();
      const [error] = await request.scope.task(({ signal }) => untilAborted(signal));
      outcome.resolve({ error, early: request.scope });
      return "late";
    });
    const port = await listen(app);
    await requestAndLeave(port, "/", started.promise);
    const { error, early } = await outcome.promise;
    assert.ok(error instanceof ClientDisconnectedError, String(error));
    assert.equal(early.getContext("early"), true);
    await waitFor(() => early.isDisposed, "the early scope disposed");
    assert.equal(app.scope.childCount, 0);
  });

  it("routes declared before the plugin: a client that leaves still cancels the scope", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    const started = deferred();
    const outcome = deferred<Error | undefined>();
    app.get("/", async (request) => {
      started.resolve();
      const [error] = await request.scope.task(({ signal }) => untilAborted(signal));
      outcome.resolve(error);
      return "late";
    });
    await app.register(fastifyGoGoScope);
    const port = await listen(app);
    await requestAndLeave(port, "/", started.promise);
    const error = await outcome.promise;
    assert.ok(error instanceof ClientDisconnectedError, String(error));
    await waitFor(() => app.scope.childCount === 0, "the request scope released");
  });

  it("the handler wrapper keeps the handler's `this` and its return value", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    app.get("/async", async function () {
      return { same: this.scope === app.scope };
    });
    app.get("/sync", function (_request, reply) {
      reply.send({ sync: true });
    });
    assert.deepEqual((await app.inject("/async")).json(), { same: true });
    assert.deepEqual((await app.inject("/sync")).json(), { sync: true });
  });

  it("hooks: a plain route runs no onRequest hook of the plugin; a deadline brings one", async (t) => {
    /** The hook names Fastify lists for each route (printRoutes with includeHooks). */
    async function hooksOf(options: { timeout?: number }): Promise<Record<string, string>> {
      const app = Fastify({ exposeHeadRoutes: false });
      t.after(() => app.close());
      await app.register(fastifyGoGoScope, options);
      app.get("/plain", async () => "plain");
      app.get("/budget", { config: { scope: { timeout: 1000 } } }, async () => "budget");
      await app.ready();
      const printed = app.printRoutes({ includeHooks: true, commonPrefix: false });
      const sections = printed.split(/(?=\/plain|\/budget)/).slice(1);
      return Object.fromEntries(sections.map((text) => [text.split(" ")[0]!, text]));
    }
    const lazy = await hooksOf({});
    assert.doesNotMatch(lazy["/plain"]!, /\(onRequest\)/);
    assert.match(lazy["/plain"]!, /\(onSend\)/);
    assert.match(lazy["/budget"]!, /\(onRequest\) \["routeOnRequest\(\)"\]/);
    const everywhere = await hooksOf({ timeout: 1000 });
    assert.match(everywhere["/plain"]!, /\(onRequest\) \["onRequest\(\)"\]/);
    assert.match(everywhere["/budget"]!, /\(onRequest\) \["onRequest\(\)"\]/);
  });

  it("a hook that reads the scope and hijacks: a route deadline gets that scope watched", async (t) => {
    const app = Fastify();
    t.after(() => app.close());
    await app.register(fastifyGoGoScope);
    let seen: Scope | undefined;
    app.get("/raw", {
      config: { scope: { timeout: 5000 } },
      preHandler: (request, reply, done) => {
        seen = request.scope;
        reply.hijack();
        reply.raw.end("raw");
        done();
      },
    }, async () => "never");
    const port = await listen(app);
    assert.equal((await request(port, "/raw")).body, "raw");
    await waitFor(() => seen?.isDisposed === true, "the hijacked request's scope disposed");
    assert.equal(app.scope.childCount, 0);
  });
});
