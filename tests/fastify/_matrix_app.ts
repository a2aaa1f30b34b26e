// The lifecycle matrix's server: a Fastify app with the plugin that reads
// `request.scope` in one phase and stalls on a test-controlled gate in another,
// recording when each request's scope signal aborts.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { fastifyGoGoScope, type FastifyGoGoScopeOptions } from "../../src/fastify/mod.ts";
import type { Scope } from "../../src/core/mod.ts";
import { type Deferred, deferred, logCollector, type LogRecord } from "./_helpers.ts";
import { type MatrixCase, type Phase, throws } from "./_matrix.ts";

/** The deadlines the matrix uses (plugin `timeout`, route timeout, Fastify's `handlerTimeout`, `shutdownTimeout`). */
export const DEADLINE_MS = 50;

/** What the server saw of one request (the `n` in its query string). */
export interface RequestRecord {
  readonly n: number;
  /** Whether this request stalls (the first of a pipeline does not). */
  readonly stalls: boolean;
  scope?: Scope;
  /** `performance.now()` in the first onRequest hook after the plugin's. */
  arrivedAt?: number;
  readAt?: number;
  /** `performance.now()` in the scope signal's `abort` listener. */
  abortAt?: number;
  stalledAt?: number;
  /** A hijacked handler called `reply.raw.end()`. */
  endedAt?: number;
}

/** The app of one case and what it recorded. */
export interface Probe {
  readonly app: FastifyInstance;
  readonly records: Map<number, RequestRecord>;
  /** Opens every stall (each request stalls once). */
  readonly gate: Deferred<void>;
  /** The logs at level error and above (the plugin logs its own failures there). */
  readonly logs: LogRecord[];
  /** The path of the case's route (`/m`) or of a missing one (`/missing`). */
  readonly path: string;
}

/** `/m?n=2&stall=1`: the request's number in the case and whether it stalls. */
export function pathOf(c: MatrixCase, n: number, stalls: boolean): string {
  return `${c.read === "notFound" ? "/missing" : "/m"}?n=${n}&stall=${stalls ? 1 : 0}`;
}

/** Records the first read of `request.scope` and when its signal aborts. */
function readScope(record: RequestRecord, request: FastifyRequest): void {
  const s = request.scope;
  record.scope = s;
  record.readAt = performance.now();
  if (s.signal.aborted) {
    record.abortAt = record.readAt;
    return;
  }
  s.signal.addEventListener("abort", () => void (record.abortAt = performance.now()), {
    once: true,
  });
}

/** Builds the app of case `c` (not listening yet). */
export async function probeApp(c: MatrixCase): Promise<Probe> {
  const log = logCollector();
  const server: Record<string, unknown> = {
    logger: { level: "error", stream: log.stream },
  };
  if (c.protocol === "h2") server.http2 = true;
  if (c.end === "close-forced") server.forceCloseConnections = true;
  if (c.end === "handler-timeout" && c.source === "server") server.handlerTimeout = DEADLINE_MS;
  const app = Fastify(server) as unknown as FastifyInstance;

  const options: Record<string, unknown> = {};
  if (c.end === "deadline" && c.source === "plugin") options.timeout = DEADLINE_MS;
  // shutdownTimeout: the in-flight work's grace period after app.close() starts.
  if (c.end === "close-shutdown-timeout") options.shutdownTimeout = DEADLINE_MS;
  try {
    await app.register(fastifyGoGoScope, options as FastifyGoGoScopeOptions);
  } catch (error) {
    await app.close().catch(() => {});
    throw error;
  }

  const records = new Map<number, RequestRecord>();
  const gate = deferred();
  const recordOf = (request: FastifyRequest): RequestRecord => {
    const match = /[?&]n=(\d+)&stall=(\d)/.exec(request.url);
    const n = Number(match?.[1] ?? 0);
    let record = records.get(n);
    if (record === undefined) {
      record = { n, stalls: match?.[2] === "1" };
      records.set(n, record);
    }
    return record;
  };
  const hijacks = c.end === "hijack-ends" || c.end === "hijack-client-leaves";
  /** Reads the scope if `phase` is the case's read phase; stalls if it is its stall phase. */
  const step = async (phase: Phase, request: FastifyRequest): Promise<void> => {
    const record = recordOf(request);
    if (phase === c.read) readScope(record, request);
    if (phase === c.stall && record.stalls && !(hijacks && phase === "handler")) {
      record.stalledAt = performance.now();
      await gate.promise;
    }
  };

  // When the request arrived (deadlines count from about then), then only
  // the hooks the case needs, registered after the plugin.
  app.addHook("onRequest", (request, _reply, done) => {
    recordOf(request).arrivedAt = performance.now();
    done();
  });
  const phases = new Set<Phase>([c.read, c.stall]);
  if (phases.has("onRequest")) app.addHook("onRequest", async (req) => step("onRequest", req));
  if (phases.has("preParsing")) {
    app.addHook("preParsing", async (req, _reply, payload) => {
      await step("preParsing", req);
      return payload;
    });
  }
  if (phases.has("preValidation")) {
    app.addHook("preValidation", async (req) => step("preValidation", req));
  }
  if (phases.has("preHandler")) app.addHook("preHandler", async (req) => step("preHandler", req));
  if (phases.has("onError")) app.addHook("onError", async (req) => step("onError", req));
  if (phases.has("onSend")) {
    app.addHook("onSend", async (req, _reply, payload) => {
      await step("onSend", req);
      return payload;
    });
  }

  const routeOptions: Record<string, unknown> = {};
  if (c.end === "deadline" && c.source === "route") {
    routeOptions.config = { scope: { timeout: DEADLINE_MS } };
  }
  if (c.end === "handler-timeout" && c.source === "route") {
    routeOptions.handlerTimeout = DEADLINE_MS;
  }
  const fails = throws(c);
  app.get("/m", routeOptions, async (request: FastifyRequest, reply: FastifyReply) => {
    await step("handler", request);
    if (fails) throw new Error("matrix: the handler throws");
    if (!hijacks) return "ok";
    const record = recordOf(request);
    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "text/plain" });
    reply.raw.write("partial\n");
    if (record.stalls) {
      record.stalledAt = performance.now();
      await gate.promise;
    }
    record.endedAt = performance.now();
    if (!reply.raw.destroyed) reply.raw.end("done\n");
  });
  app.setNotFoundHandler(async (request: FastifyRequest, reply: FastifyReply) => {
    await step("notFound", request);
    return reply.code(404).send("missing");
  });
  return { app, records, gate, logs: log.records, path: pathOf(c, 1, true) };
}
