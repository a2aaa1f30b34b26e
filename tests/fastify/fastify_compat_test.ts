// What registering the plugin must not change about Fastify, each case taken
// from a test of Fastify's own suite that the plugin once broke: other
// plugins see the declared handler, reply.send() throws what it throws
// without the plugin, a cancelled web-stream response cancels its source; and
// the one deliberate difference, the keep-alive close during app.close(), is
// an option whose `false` gives Fastify's own behaviour.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import http2 from "node:http2";
import Fastify, {
  type FastifyInstance,
  type FastifyServerOptions,
  type RouteOptions,
} from "fastify";
import { fastifyGoGoScope, type FastifyGoGoScopeOptions } from "../../src/fastify/mod.ts";
import type { Scope } from "../../src/core/mod.ts";
import { deferred, listen, sleep, waitFor } from "./_helpers.ts";

async function build(
  options: FastifyGoGoScopeOptions = {},
  server: FastifyServerOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify(server) as unknown as FastifyInstance;
  await app.register(fastifyGoGoScope, options);
  return app;
}

describe("Fastify unchanged: route handlers", () => {
  for (const settings of [undefined, { timeout: 1000 }]) {
    it(`another plugin's onRoute hook sees the declared handler (config.scope ${JSON.stringify(settings)})`, async (t) => {
      const app = await build();
      t.after(() => app.close());
      const seen: unknown[] = [];
      await app.register(async (instance) => {
        instance.addHook("onRoute", (route: RouteOptions) => {
          if (route.method === "GET") seen.push(route.handler);
        });
        const handler = async function declared() {
          return "ok";
        };
        instance.get("/", { config: settings === undefined ? {} : { scope: settings } }, handler);
        seen.push(handler);
      });
      await app.ready();
      assert.equal(seen.length, 2);
      assert.equal(seen[0], seen[1], "the hook saw the function the route declared");
    });
  }

  it("request.routeOptions.handler is the declared handler, bound by Fastify", async (t) => {
    const app = await build();
    t.after(() => app.close());
    app.get("/", async function declared(request) {
      return { name: request.routeOptions.handler.name, scope: request.scope.name };
    });
    const body = (await app.inject("/")).json();
    assert.equal(body.name, "bound declared");
    assert.match(body.scope, /^request-/);
  });
});

describe("Fastify unchanged: reply.send()", () => {
  it("a payload the serializer cannot send throws FST_ERR_REP_INVALID_PAYLOAD_TYPE to the handler", async (t) => {
    for (const plugin of [false, true]) {
      const app = Fastify();
      t.after(() => app.close());
      if (plugin) await app.register(fastifyGoGoScope);
      let thrown: unknown;
      app.get("/", (_request, reply) => {
        try {
          reply.header("content-type", "text/html").send({});
        } catch (error) {
          thrown = error;
          reply.code(418).send("caught");
        }
      });
      const response = await app.inject("/");
      assert.equal((thrown as { code?: string })?.code, "FST_ERR_REP_INVALID_PAYLOAD_TYPE");
      assert.equal(response.statusCode, 418, plugin ? "with the plugin" : "bare Fastify");
    }
  });

  it("an onSend hook of the application still runs, and its payload change is sent", async (t) => {
    const app = await build();
    t.after(() => app.close());
    app.addHook("onSend", async (_request, _reply, payload) => `${payload}!`);
    app.get("/", async (request) => {
      await request.scope.task(() => sleep(1));
      return "hello";
    });
    assert.equal((await app.inject("/")).body, "hello!");
  });
});

describe("Fastify unchanged: web ReadableStream responses", () => {
  it("the client leaves: the source's cancel() runs and the scope ends", async (t) => {
    const app = await build();
    t.after(() => app.close());
    const cancelled = deferred<unknown>();
    let scope: Scope | undefined;
    app.get("/", (request, reply) => {
      scope = request.scope;
      let n = 0;
      // A short source that never closes: only cancel() ends it.
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (n++ < 2) controller.enqueue(new TextEncoder().encode(`chunk ${n}\n`));
        },
        cancel(reason) {
          cancelled.resolve(reason);
        },
      });
      reply.header("content-type", "text/plain").send(body);
    });
    const port = await listen(app);
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    const firstChunk = deferred();
    socket.on("data", () => firstChunk.resolve());
    socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await firstChunk.promise;
    socket.destroy();
    await cancelled.promise;
    await waitFor(() => scope?.isDisposed === true, "the request scope ended");
  });
});

describe("the keep-alive close during app.close() (option connectionCloseOnShutdown)", () => {
  async function inFlightDuringClose(connectionCloseOnShutdown: boolean) {
    const app = await build({ connectionCloseOnShutdown }, { return503OnClosing: true });
    const started = deferred();
    const release = deferred();
    app.get("/slow", async () => {
      started.resolve();
      await release.promise;
      return "slow";
    });
    const port = await listen(app);
    const socket = net.connect(port, "127.0.0.1");
    socket.setEncoding("utf8");
    let received = "";
    let socketClosed = false;
    socket.on("data", (d: string) => (received += d));
    socket.on("close", () => (socketClosed = true));
    socket.on("error", () => {});
    socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    await started.promise;
    let appClosed = false;
    const closing = app.close().then(() => (appClosed = true));
    await sleep(20);
    release.resolve();
    await waitFor(() => received.includes("\r\n\r\nslow"), "the in-flight response");
    return {
      socket,
      received: () => received,
      closing,
      isClosed: () => appClosed,
      socketClosed: () => socketClosed,
    };
  }

  it("default (true): the response says Connection: close; the socket and close() end with it", async () => {
    const run = await inFlightDuringClose(true);
    assert.match(run.received(), /connection: close/i);
    await run.closing;
    await waitFor(run.socketClosed, "the server closed the keep-alive socket");
  });

  it("false: Fastify's own behaviour, the socket stays open and its next request gets Fastify's 503", async () => {
    const run = await inFlightDuringClose(false);
    assert.doesNotMatch(run.received(), /connection: close/i);
    if ("Deno" in globalThis) {
      // Deno's node:http server ends its keep-alive sockets itself when it closes.
      await run.closing;
    } else {
      await sleep(100);
      assert.equal(run.isClosed(), false, "close() waits for the open keep-alive socket");
      assert.equal(run.socketClosed(), false);
      run.socket.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
      await waitFor(() => run.received().includes(" 503 "), "Fastify's 503 while closing");
      await run.closing;
    }
    run.socket.destroy();
  });
});

describe("Fastify unchanged: the request Fastify builds without decorators", () => {
  // Fastify answers a method it does not know (HTTP/2 lets any through) from a
  // fallback that builds an undecorated request: the plugin's onSend hook
  // once read a field that is not there and turned Fastify's 404 into a 500
  // (Fastify's own test/http2/unknown-http-method.test.js).
  it("an unknown HTTP/2 method gets Fastify's own 404, and no scope is left alive", async (t) => {
    const app = Fastify({ http2: true }) as unknown as FastifyInstance;
    await app.register(fastifyGoGoScope);
    const read: unknown[] = [];
    app.addHook("onSend", async (request) => {
      read.push((request as { scope?: unknown }).scope);
    });
    app.get("/", async () => "ok");
    const port = await listen(app);
    const client = http2.connect(`http://127.0.0.1:${port}`);
    // The client's session first: an HTTP/2 server's close() waits for open sessions (Node).
    t.after(async () => {
      client.close();
      await app.close();
    });
    const { status, body } = await new Promise<{ status: number; body: string }>(
      (resolve, reject) => {
        const request = client.request({ ":method": "UNKNOWN_METHOD", ":path": "/" });
        let status = 0;
        let body = "";
        request.on("response", (headers) => {
          status = Number(headers[":status"]);
        });
        request.setEncoding("utf8");
        request.on("data", (chunk: string) => {
          body += chunk;
        });
        request.on("end", () => resolve({ status, body }));
        request.on("error", reject);
        request.end();
      },
    );
    assert.equal(status, 404);
    assert.deepEqual(JSON.parse(body), {
      statusCode: 404,
      code: "FST_ERR_NOT_FOUND",
      error: "Not Found",
      message: "Not Found",
    });
    assert.equal(read.length, 1);
    const scope = read[0];
    // Fastify gives that request none of the instance's request decorators;
    // if it ever does, the scope must end with the response.
    if (scope !== undefined) await waitFor(() => (scope as Scope).isDisposed, "scope disposed");
    await waitFor(() => app.scope.childCount === 0, "no request scope alive");
  });
});
