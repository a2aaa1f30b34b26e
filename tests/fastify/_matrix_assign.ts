// The lifecycle matrix's `request.scope = value` cases: a hook assigns a value
// that is not a Scope (the setter must throw a TypeError at once, the request
// gets a 500, no scope is left), or a real Scope (it becomes request.scope and
// ends with the response: cancelled if the client leaves, disposed otherwise).
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import { fastifyGoGoScope } from "../../src/fastify/mod.ts";
import { ClientDisconnectedError, type Scope, scope } from "../../src/core/mod.ts";
import { deferred, listen, logCollector, waitFor } from "./_helpers.ts";
import {
  type CaseResult,
  describeReason,
  MAX_LATENCY_MS,
  quietly,
  within,
  wrongReason,
} from "./_matrix_run.ts";
import { h1Client, h2Client, type MatrixClient } from "./_matrix_clients.ts";

/** The hooks that can assign `request.scope` before the handler. */
const HOOKS = ["onRequest", "preParsing", "preValidation", "preHandler"] as const;
type Hook = typeof HOOKS[number];

/** Values that are not a Scope, with what the setter's message must say it received. */
const NOT_SCOPES: readonly { label: string; value: unknown; named: RegExp }[] = [
  { label: "null", value: null, named: /received null\b/ },
  { label: "{}", value: {}, named: /received (an object|\{\})/ },
  { label: "42", value: 42, named: /received 42\b/ },
  { label: '"x"', value: "x", named: /received "x"/ },
  { label: "undefined", value: undefined, named: /received undefined\b/ },
];

/** One assignment case. */
export interface AssignCase {
  readonly name: string;
  readonly protocol: "h1" | "h2";
  readonly hook: Hook;
  /** The value's label, or "a Scope" for `scope({ parent: app.scope })`. */
  readonly label: string;
  /** Whether the hook reads request.scope (creating the plugin's own) before assigning. */
  readonly readBefore: boolean;
  /** For a Scope: the response completes, or the client leaves while the handler waits. */
  readonly end: "completes" | "client-leaves" | undefined;
}

/** Every assignment case: non-Scope values in every hook, real Scopes in onRequest and preHandler. */
export function assignCases(): AssignCase[] {
  const cases: AssignCase[] = [];
  const name = (c: Omit<AssignCase, "name">) =>
    `${c.protocol} | request.scope = ${c.label} in ${c.hook}` +
    `${c.readBefore ? " after reading it" : ""}${c.end === undefined ? "" : ` | ${c.end}`}`;
  for (const hook of HOOKS) {
    for (const { label } of NOT_SCOPES) {
      for (const readBefore of [false, true]) {
        const c = { protocol: "h1" as const, hook, label, readBefore, end: undefined };
        cases.push({ name: name(c), ...c });
      }
    }
  }
  for (const protocol of ["h1", "h2"] as const) {
    for (const hook of ["onRequest", "preHandler"] as const) {
      for (const readBefore of [false, true]) {
        for (const end of ["completes", "client-leaves"] as const) {
          const c = { protocol, hook, label: "a Scope", readBefore, end };
          cases.push({ name: name(c), ...c });
        }
      }
    }
  }
  return cases;
}

/** What the server saw of the case's one request. */
interface Seen {
  own?: Scope;
  assigned?: Scope;
  thrown?: unknown;
  /** request.scope right after the setter threw (read only when it had been read before). */
  afterThrow?: Scope;
  handled?: unknown;
  inHandler?: Scope;
  assignedAbortAt?: number;
}

/** Runs assignment case `c` on a fresh app and client; never throws. */
export async function runAssignCase(c: AssignCase): Promise<CaseResult> {
  const failures: string[] = [];
  const observed: string[] = [];
  const latencies: number[] = [];
  const fail = (message: string) => void failures.push(message);
  const log = logCollector();
  const server: Record<string, unknown> = { logger: { level: "error", stream: log.stream } };
  if (c.protocol === "h2") server.http2 = true;
  const app = Fastify(server) as unknown as FastifyInstance;
  const gate = deferred();
  const seen: Seen = {};
  const notScope = NOT_SCOPES.find((v) => v.label === c.label);
  let client: MatrixClient | undefined;
  let stage = "creating the app";
  try {
    await app.register(fastifyGoGoScope);
    const assign = (request: FastifyRequest) => {
      if (c.readBefore) seen.own = request.scope;
      const value = notScope === undefined ? scope({ parent: app.scope }) : notScope.value;
      if (notScope === undefined) {
        seen.assigned = value as Scope;
        seen.assigned.signal.addEventListener("abort", () => {
          seen.assignedAbortAt = performance.now();
        });
      }
      try {
        (request as unknown as { scope: unknown }).scope = value;
      } catch (error) {
        seen.thrown = error;
        if (c.readBefore) seen.afterThrow = request.scope;
        throw error;
      }
    };
    if (c.hook === "preParsing") {
      app.addHook("preParsing", async (request, _reply, payload) => {
        assign(request);
        return payload;
      });
    } else app.addHook(c.hook, async (request) => assign(request));
    app.setErrorHandler((error, _request, reply) => {
      seen.handled = error;
      return reply.send(error);
    });
    app.get("/m", async (request) => {
      seen.inHandler = request.scope;
      if (notScope === undefined) await gate.promise;
      return "ok";
    });
    const port = await listen(app);
    stage = "sending the request";
    client = c.protocol === "h2" ? await h2Client(port, "/m") : await h1Client(port, ["/m"]);
    const conn = client;
    if (notScope !== undefined) {
      stage = "waiting for the response";
      await quietly(waitFor(() => conn.statuses().length > 0, stage, 1000));
      const own = () => seen.own?.isDisposed !== false;
      await quietly(waitFor(own, "the plugin's own scope disposed", 300));
      checkRejected(c, seen, notScope.named, conn.statuses(), fail, observed);
    } else {
      stage = "waiting for the handler";
      await waitFor(() => seen.inHandler !== undefined, stage, 1000);
      if (seen.inHandler !== seen.assigned) {
        fail("request.scope in the handler is not the Scope the hook assigned");
      }
      const eventAt = performance.now();
      if (c.end === "client-leaves") conn.leave(c.protocol === "h2" ? "stream" : "socket");
      else gate.resolve();
      stage = "waiting for the assigned scope to end";
      await quietly(waitFor(() => seen.assignedAbortAt !== undefined, stage, 5 * MAX_LATENCY_MS));
      const assigned = seen.assigned!;
      const expected = c.end === "client-leaves" ? ClientDisconnectedError : "normal";
      if (seen.assignedAbortAt === undefined) {
        fail(`the assigned scope did not end within ${5 * MAX_LATENCY_MS} ms of the event`);
      } else {
        const latency = seen.assignedAbortAt - eventAt;
        latencies.push(latency);
        observed.push(
          `assigned: ${describeReason(assigned.abortReason)} after ${latency.toFixed(1)} ms`,
        );
        if (latency < 0) {
          fail(`the assigned scope ended ${(-latency).toFixed(1)} ms BEFORE the event`);
        }
        if (latency > MAX_LATENCY_MS) {
          fail(
            `the assigned scope ended ${
              latency.toFixed(1)
            } ms after the event (> ${MAX_LATENCY_MS})`,
          );
        }
      }
      const wrong = wrongReason(assigned.abortReason, expected);
      if (wrong !== undefined) fail(`the assigned scope: ${wrong}`);
      if (c.end === "completes") {
        await quietly(waitFor(() => conn.statuses().length > 0, "the response", 500));
      }
      if (c.end === "completes" && !conn.statuses().includes(200)) {
        fail(`the client got status ${conn.statuses().join(",") || "none"}, expected 200`);
      }
      gate.resolve();
      await quietly(waitFor(() => assigned.isDisposed, "assigned scope disposed", 300));
      if (!assigned.isDisposed) fail("the assigned scope is not disposed");
      if (seen.own !== undefined) {
        const own = seen.own;
        await quietly(waitFor(() => own.isDisposed, "own scope disposed", 300));
        if (!own.isDisposed) fail("the plugin's own scope (read before) is not disposed");
        const ownWrong = wrongReason(own.abortReason, expected);
        if (ownWrong !== undefined) fail(`the plugin's own scope (read before): ${ownWrong}`);
      }
    }
    stage = "checking that no scope is left";
    await quietly(waitFor(() => app.scope.childCount === 0, stage, 300));
    if (app.scope.childCount !== 0) {
      fail(`app.scope.childCount is ${app.scope.childCount}, expected 0`);
    }
  } catch (error) {
    fail(`${stage}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    gate.resolve();
    client?.destroy();
    if ((await within(app.close(), 2000)) === "timeout") {
      fail("app.close() did not finish within 2 s");
    }
    for (const record of log.records) {
      if (/go-go-scope/.test(record.msg ?? "")) fail(`the plugin logged: ${record.msg}`);
    }
  }
  return { failures, observed, latencies };
}

/** A non-Scope value: the setter threw a TypeError naming it, Fastify answered 500, nothing leaked. */
function checkRejected(
  c: AssignCase,
  seen: Seen,
  named: RegExp,
  statuses: number[],
  fail: (message: string) => void,
  observed: string[],
): void {
  const thrown = seen.thrown;
  if (thrown === undefined) fail(`the setter accepted ${c.label} without throwing`);
  else {
    const message = thrown instanceof Error ? thrown.message : String(thrown);
    observed.push(`threw ${describeReason(thrown)}: ${message}`);
    if (!(thrown instanceof TypeError)) {
      fail(`the setter threw ${describeReason(thrown)}, not a TypeError`);
    }
    if (!named.test(message)) {
      fail(`the setter's message does not name what it received (${named})`);
    }
    if (seen.handled !== thrown) fail("the hook's error did not reach Fastify's error handler");
  }
  if (!statuses.includes(500)) {
    fail(`the client got status ${statuses.join(",") || "none"}, expected 500`);
  }
  if (thrown !== undefined && seen.inHandler !== undefined) {
    fail("the handler ran after the hook threw");
  }
  if (c.readBefore) {
    if (thrown !== undefined && seen.afterThrow !== seen.own) {
      fail("request.scope changed although the setter threw");
    }
    if (seen.own !== undefined && !seen.own.isDisposed) {
      fail("the plugin's own scope (read before) is not disposed after the 500");
    }
    const wrong = wrongReason(seen.own?.abortReason, "normal");
    if (wrong !== undefined) fail(`the plugin's own scope (read before): ${wrong}`);
  }
}
