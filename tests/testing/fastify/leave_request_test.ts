// leaveRequest over real sockets on 127.0.0.1: the client leaves in each
// lifecycle phase (HTTP/1.1 and HTTP/2), after a named task started, or some
// milliseconds after the request arrived (real and virtual time); what it
// returns; and how it fails when the moment never comes.
import { describe, it } from "node:test";
import assert, { AssertionError } from "node:assert/strict";
import Fastify, { type FastifyInstance } from "fastify";
import { fastifyGoGoScope } from "../../../src/fastify/mod.ts";
import { ClientDisconnectedError, type TaskFn } from "../../../src/core/mod.ts";
import {
  assertNoRequestScopes,
  createTimeController,
  type LeaveAt,
  leaveRequest,
  probeRequests,
} from "../../../src/testing/mod.ts";

/** A task function that only ends when its signal aborts. */
const untilAborted: TaskFn<never> = ({ signal }) =>
  new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });

/** An app with the plugin whose routes wait on a task named "wait". */
async function appWithRoutes(http2 = false): Promise<FastifyInstance> {
  const app = (http2 ? Fastify({ http2: true }) : Fastify()) as unknown as FastifyInstance;
  await app.register(fastifyGoGoScope);
  // An object payload, so that preSerialization runs.
  app.get("/object", async (request) => {
    await request.scope.task(() => "warm-up", { name: "warm-up" });
    const [err] = await request.scope.task(untilAborted, { name: "wait" });
    return { err: err?.name };
  });
  app.get("/quick", async () => ({ ok: true }));
  app.post("/echo", async (request) => {
    const [err] = await request.scope.task(untilAborted, { name: "wait" });
    return { body: request.body, err: err?.name };
  });
  return app;
}

const PHASES = [
  "onRequest",
  "preParsing",
  "preValidation",
  "preHandler",
  "handler",
  "preSerialization",
  "onSend",
] as const;

for (const http2 of [false, true]) {
  const protocol = http2 ? "HTTP/2" : "HTTP/1.1";
  describe(`leaveRequest over ${protocol}: a client that leaves in each phase`, () => {
    for (const phase of PHASES) {
      it(`leaves in ${phase}: the scope is cancelled with ClientDisconnectedError and disposed`, async () => {
        const app = await appWithRoutes(http2);
        // Leaving in the last two phases needs the handler to finish: it
        // waits on nothing there.
        if (phase === "preSerialization" || phase === "onSend") {
          app.get("/done", async () => ({ done: true }));
        }
        try {
          const url = phase === "preSerialization" || phase === "onSend" ? "/done" : "/object";
          const left = await leaveRequest(app, { url, leave: { phase } });
          assert.equal(left.phase, phase);
          assert.ok(
            left.reason instanceof ClientDisconnectedError,
            `reason: ${String(left.reason)}`,
          );
          assert.equal(left.scope?.abortReason, left.reason);
          assert.equal(left.disposed, true);
          assert.equal(left.scope?.isDisposed, true);
          assert.equal(left.request.phases[0], "onRequest");
          assert.ok(left.request.phases.includes(phase));
          if (!http2) {
            assert.ok(!left.request.phases.includes("onResponse"), "HTTP/1.1: no onResponse");
          }
          if (phase === "handler") {
            assert.deepEqual(left.tasks.map((t) => `${t.name}:${t.outcome}`), [
              "warm-up:fulfilled",
              "wait:cancelled",
            ]);
          } else {
            // The lifecycle goes on after the phase is let go, on a cancelled scope.
            assert.ok(left.tasks.every((t) => t.outcome === "cancelled"));
          }
          await assertNoRequestScopes(app);
        } finally {
          await app.close();
        }
      });
    }
  });
}

describe("leaveRequest: other moments", () => {
  it("{ task }: leaves right after the named task started; earlier tasks are fulfilled", async () => {
    const app = await appWithRoutes();
    try {
      const left = await leaveRequest(app, { url: "/object", leave: { task: "wait" } });
      assert.equal(left.phase, "handler");
      assert.deepEqual(
        left.tasks.map((t) => [t.name, t.outcome, t.phase]),
        [["warm-up", "fulfilled", "handler"], ["wait", "cancelled", "handler"]],
      );
      assert.equal(left.tasks[0]?.value, "warm-up");
      assert.ok(left.tasks[1]?.error instanceof ClientDisconnectedError);
    } finally {
      await app.close();
    }
  });

  it("{ task } over HTTP/2: the stream is reset and the task cancelled", async () => {
    const app = await appWithRoutes(true);
    try {
      const left = await leaveRequest(app, { url: "/object", leave: { task: "wait" } });
      assert.equal(left.tasks.at(-1)?.outcome, "cancelled");
      assert.ok(left.reason instanceof ClientDisconnectedError);
    } finally {
      await app.close();
    }
  });

  it("{ afterMs }: leaves that long after the request arrived (real time)", async () => {
    const app = await appWithRoutes();
    try {
      const started = performance.now();
      const left = await leaveRequest(app, { url: "/object", leave: { afterMs: 30 } });
      assert.ok(performance.now() - started >= 25, "waited for the moment");
      assert.equal(left.phase, "handler");
      assert.equal(left.tasks.at(-1)?.outcome, "cancelled");
    } finally {
      await app.close();
    }
  });

  it("POST with a JSON body, leaving once the handler waits: the body was read", async () => {
    const app = await appWithRoutes();
    let body: unknown;
    app.addHook("preHandler", async (request) => void (body = request.body));
    try {
      const left = await leaveRequest(app, {
        url: "/echo",
        body: { n: 1 },
        leave: { task: "wait" },
      });
      assert.deepEqual(body, { n: 1 });
      assert.equal(left.request.method, "POST");
      assert.ok(left.reason instanceof ClientDisconnectedError);
    } finally {
      await app.close();
    }
  });

  it("concurrent requests to one app each leave at their own moment", async () => {
    const app = await appWithRoutes();
    try {
      const moments: LeaveAt[] = [{ phase: "preValidation" }, { task: "wait" }, {
        phase: "handler",
      }];
      const results = await Promise.all(
        moments.map((leave) => leaveRequest(app, { url: "/object", leave })),
      );
      assert.deepEqual(results.map((r) => r.phase), ["preValidation", "handler", "handler"]);
      assert.equal(new Set(results.map((r) => r.scope)).size, 3);
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("waitForDisposal: false resolves as soon as the server saw the client go", async () => {
    const app = await appWithRoutes();
    try {
      const left = await leaveRequest(app, {
        url: "/object",
        leave: { task: "wait" },
        waitForDisposal: false,
      });
      assert.equal(left.disposed, false);
      assert.ok(left.scope?.isAborted);
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("without the plugin: phases are recorded, there is no scope", async () => {
    const app = Fastify();
    app.get("/", async () => {
      await new Promise((r) => setTimeout(r, 50));
      return "late";
    });
    try {
      const left = await leaveRequest(app, { url: "/", leave: { phase: "preHandler" } });
      assert.equal(left.scope, undefined);
      assert.equal(left.reason, undefined);
      assert.equal(left.phase, "preHandler");
      assert.deepEqual(left.tasks, []);
    } finally {
      await app.close();
    }
  });
});

describe("leaveRequest with the virtual clock installed", () => {
  it("a handler retrying with backoff under a deadline: the client leaves mid-retry", async () => {
    using time = createTimeController();
    time.install();
    const app = Fastify();
    await app.register(fastifyGoGoScope);
    const attempts: number[] = [];
    app.get("/flaky", async (request) => {
      const [err] = await request.scope.task(() => {
        attempts.push(Date.now());
        throw new Error("upstream down");
      }, { name: "upstream", retry: { max: 10, delay: 1_000 }, timeout: 60_003 });
      throw err;
    });
    try {
      // The clock is advanced by afterMs once the request arrived.
      const left = await leaveRequest(app, { url: "/flaky", leave: { afterMs: 2_500 } });
      assert.equal(time.now, 2_500);
      assert.deepEqual(attempts, [0, 1000, 2000], "retries on the virtual clock, then the leave");
      assert.equal(left.tasks[0]?.outcome, "cancelled");
      assert.ok(left.reason instanceof ClientDisconnectedError);
      await time.advance(10_000);
      assert.equal(attempts.length, 3, "no retry after the client left");
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("phase and task moments need no clock movement", async () => {
    using time = createTimeController();
    time.install();
    const app = await appWithRoutes(true);
    try {
      const a = await leaveRequest(app, { url: "/object", leave: { phase: "preHandler" } });
      const b = await leaveRequest(app, { url: "/object", leave: { task: "wait" } });
      assert.equal(a.phase, "preHandler");
      assert.equal(b.tasks.at(-1)?.outcome, "cancelled");
      assert.equal(time.now, 0);
    } finally {
      await app.close();
    }
  });
});

describe("leaveRequest: failures", () => {
  it("fails when the response completes before the moment", async () => {
    const app = await appWithRoutes();
    try {
      await assert.rejects(
        leaveRequest(app, { url: "/quick", leave: { task: "never-started" } }),
        (err: unknown) => {
          assert.ok(err instanceof AssertionError);
          assert.match(
            err.message,
            /the client was to leave after task "never-started" started, but the response completed first \(status 200; phases: onRequest > preParsing > preValidation > preHandler > handler > preSerialization > onSend/,
          );
          return true;
        },
      );
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("fails when the moment does not come within `timeout` (and the client leaves then)", async () => {
    const app = await appWithRoutes();
    try {
      await assert.rejects(
        leaveRequest(app, { url: "/object", leave: { task: "other" }, timeout: 100 }),
        /the moment \(after task "other" started\) did not come within 100 ms \(phases: .*tasks: warm-up \(fulfilled\), wait \(pending\)\)/,
      );
      await assertNoRequestScopes(app);
    } finally {
      await app.close();
    }
  });

  it("rejects bad options, and an app that is ready without a probe", async () => {
    const app = Fastify();
    try {
      const bad = (options: unknown, pattern: RegExp) =>
        assert.rejects(
          leaveRequest(app, options as Parameters<typeof leaveRequest>[1]),
          (err: unknown) =>
            (err as { code?: string }).code === "GGS_ERR_INVALID_OPTION" &&
            pattern.test((err as Error).message),
        );
      await bad({ url: "x", leave: { phase: "onSend" } }, /"url" must be a path starting with \//);
      await bad({ url: "/", leave: { phase: "onResponse" } }, /"leave" must be \{ phase:/);
      await bad({ url: "/", leave: { phase: "onSend", task: "x" } }, /"leave"/);
      await bad({ url: "/", leave: { afterMs: -1 } }, /"leave"/);
      await bad({ url: "/", leave: undefined }, /"leave"/);
      await bad({ url: "/", leave: { task: "x" }, timeout: 0 }, /"timeout"/);
      await app.ready();
      await assert.rejects(
        leaveRequest(app, { url: "/", leave: { phase: "onRequest" } }),
        /Cannot probe the app's requests: hooks can no longer be added/,
      );
    } finally {
      await app.close();
    }
  });

  it("an app probed before ready() can be left from after ready()", async () => {
    const app = await appWithRoutes();
    probeRequests(app);
    await app.ready();
    try {
      const left = await leaveRequest(app, { url: "/object", leave: { task: "wait" } });
      assert.ok(left.reason instanceof ClientDisconnectedError);
    } finally {
      await app.close();
    }
  });
});
