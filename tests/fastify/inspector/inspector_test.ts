// The live inspector (`inspector: { path }`): a self-contained page under a
// strict Content-Security-Policy, loopback clients only unless `authorize`
// says otherwise, and `path/events`, a throttled stream of JSON snapshots of
// the running requests, their tasks and child scopes, in which the
// inspector's own requests never appear. The page in a browser:
// tests/browser/inspector_browser.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import Fastify from "fastify";
import { fastifyGoGoScope } from "../../../src/fastify/mod.ts";
import { escapeHtml } from "../../../src/fastify/inspector/page.ts";
import type { Snapshot } from "../../../src/fastify/inspector/inspector.ts";
import {
  activeTimers,
  deferred,
  listen,
  logCollector,
  request,
  untilAborted,
  waitFor,
} from "../_helpers.ts";

/** Follows `path` as server-sent events; `snapshots` fills as they arrive. */
function follow(port: number, path: string): { snapshots: Snapshot[]; close(): void } {
  const snapshots: Snapshot[] = [];
  let buffer = "";
  const req = http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf("\n\n")) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const data = /^data: (.*)$/m.exec(block);
        if (/^event: snapshot$/m.test(block) && data) snapshots.push(JSON.parse(data[1]!));
      }
    });
    res.on("error", () => {});
  });
  req.on("error", () => {});
  return { snapshots, close: () => req.destroy() };
}

const last = (s: Snapshot[]): Snapshot => s[s.length - 1]!;

describe("inspector", () => {
  it("escapeHtml escapes & < > \" '", () => {
    assert.equal(
      escapeHtml(`<img src=x onerror="alert('1')">&`),
      "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;",
    );
  });

  it("serves one self-contained page: no external resource, a strict CSP, the name escaped", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, {
      name: "<script>alert(1)</script>",
      inspector: { path: "/_inspector" },
    });
    const res = await app.inject("/_inspector");
    await app.close();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "text/html; charset=utf-8");
    const csp = String(res.headers["content-security-policy"]);
    assert.match(csp, /default-src 'none'; script-src 'nonce-[0-9a-f]{32}'/);
    const nonce = /'nonce-([0-9a-f]{32})'/.exec(csp)![1];
    assert.equal(res.body.match(new RegExp(`nonce="${nonce}"`, "g"))?.length, 2);
    assert.doesNotMatch(res.body, /(?:src|href)=["']?(?:https?:)?\/\//);
    assert.doesNotMatch(res.body, /<script>alert/);
    assert.match(res.body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;: go-go-scope inspector/);
    assert.match(res.body, /data-events="\/_inspector\/events"/);
  });

  it("loopback only by default; authorize decides otherwise (a throw denies and is logged)", async () => {
    const remote = { remoteAddress: "203.0.113.9" };
    const plain = Fastify();
    await plain.register(fastifyGoGoScope, { inspector: { path: "/ops" } });
    assert.equal((await plain.inject({ url: "/ops", ...remote })).statusCode, 403);
    assert.equal((await plain.inject({ url: "/ops/events", ...remote })).statusCode, 403);
    assert.equal((await plain.inject({ url: "/ops", remoteAddress: "::1" })).statusCode, 200);
    await plain.close();

    const logs = logCollector();
    const guarded = Fastify({ logger: { stream: logs.stream } });
    await guarded.register(fastifyGoGoScope, {
      inspector: {
        path: "/ops",
        authorize: async (request) => {
          if (request.headers["x-boom"]) throw new Error("auth backend down");
          return request.headers["x-ops-token"] === "s3cret";
        },
      },
    });
    const allowed = await guarded.inject({
      url: "/ops",
      headers: { "x-ops-token": "s3cret" },
      ...remote,
    });
    assert.equal(allowed.statusCode, 200);
    const local = await guarded.inject({ url: "/ops" }); // loopback, but no token
    assert.equal(local.statusCode, 403);
    assert.match(local.body, /^Forbidden: the go-go-scope inspector/);
    const boom = await guarded.inject({ url: "/ops", headers: { "x-boom": "1" } });
    assert.equal(boom.statusCode, 403);
    assert.ok(logs.records.some((r) => r.err?.message === "auth backend down"));
    await guarded.close();
  });

  it("streams snapshots: a running request appears with its tasks and child scopes, then goes", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, {
      name: "shop",
      timeout: 60_000,
      inspector: { path: "/_inspector" },
    });
    const release = deferred();
    const entered = deferred();
    app.get("/orders/:id", async (request) => {
      const child = request.scope.createChild({ name: "pricing" });
      const a = request.scope.task(() => release.promise, { name: "load-order" });
      const b = child.task(() => release.promise, { name: "price-lines" });
      entered.resolve();
      await Promise.all([a, b]);
      await child[Symbol.asyncDispose]();
      return "ok";
    });
    const port = await listen(app);
    const watcher = follow(port, "/_inspector/events");
    await waitFor(() => watcher.snapshots.length >= 1, "the first snapshot");
    assert.equal(watcher.snapshots[0]!.root.name, "shop");
    assert.deepEqual(watcher.snapshots[0]!.requests, [], "its own stream is not shown");

    const pending = request(port, "/orders/42?debug=1");
    await entered.promise;
    await waitFor(
      () => last(watcher.snapshots).requests.length === 1,
      "the request in a snapshot",
    );
    const [shown] = last(watcher.snapshots).requests;
    assert.equal(shown!.method, "GET");
    assert.equal(shown!.route, "/orders/:id");
    assert.equal(shown!.path, "/orders/42");
    assert.equal(shown!.deadlineAt! - shown!.startedAt, 60_000);
    assert.deepEqual(shown!.scope.tasks.map((t) => [t.name, t.state]), [["load-order", "running"]]);
    assert.equal(shown!.scope.children[0]!.name, "pricing");
    assert.deepEqual(shown!.scope.children[0]!.tasks.map((t) => t.name), ["price-lines"]);

    release.resolve();
    assert.equal((await pending).body, "ok");
    await waitFor(() => last(watcher.snapshots).requests.length === 0, "the request gone");
    watcher.close();
    await app.close();
  });

  it("throttled: at most a few snapshots a second while requests come and go; none when unwatched", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, { inspector: { path: "/_inspector" } });
    app.get("/", async (request) => (await request.scope.task(() => "x"))[1]);
    const port = await listen(app);
    const timers = activeTimers();
    const watcher = follow(port, "/_inspector/events");
    await waitFor(() => watcher.snapshots.length >= 1, "the first snapshot");
    assert.equal(activeTimers(), timers + 1, "one timer while watched");
    const started = Date.now();
    while (Date.now() - started < 1000) await request(port, "/");
    const perSecond = watcher.snapshots.length - 1;
    assert.ok(perSecond <= 5, `${perSecond} snapshots in one second`);
    assert.ok(perSecond >= 2, `${perSecond} snapshots in one second`);
    watcher.close();
    await waitFor(() => activeTimers() === timers, "no timer once nobody watches");
    await app.close();
  });

  it("app.close() ends the streams (it does not wait for watchers)", async () => {
    const app = Fastify();
    await app.register(fastifyGoGoScope, { inspector: { path: "/_inspector" } });
    app.get("/hang", async (request) => {
      await request.scope.task(({ signal }) => untilAborted(signal));
      return "late";
    });
    const port = await listen(app);
    const watcher = follow(port, "/_inspector/events");
    await waitFor(() => watcher.snapshots.length >= 1, "the first snapshot");
    const started = Date.now();
    await app.close();
    assert.ok(Date.now() - started < 1000);
    watcher.close();
  });
});
