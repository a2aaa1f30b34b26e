// The plugin's trace and diagnostics options, kept out of plugin.ts:
// `traceparent` (continue an incoming W3C trace in the request scope and its
// log bindings) and `scopeTreeRoute` (serve the live scope tree as text).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Scope } from "../core/mod.ts";
import { generateSpanId } from "../core/mod.ts";
import { adoptTrace, fail } from "../core/internal.ts";

/** A trace continued from a `traceparent` header. */
export interface IncomingTrace {
  readonly traceId: string;
  readonly parentSpanId: string;
  readonly spanId: string;
}

// version "-" trace-id "-" parent-id "-" flags, lowercase hex (W3C Trace Context).
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(?:-|$)/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** The trace in `header`, or `undefined` when it is absent or malformed. */
export function parseTraceparent(
  header: unknown,
): { traceId: string; parentSpanId: string } | undefined {
  if (typeof header !== "string") return undefined;
  const m = TRACEPARENT.exec(header);
  if (m === null || m[1] === "ff" || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return undefined;
  return { traceId: m[2]!, parentSpanId: m[3]! };
}

/**
 * Reads the request's `traceparent` header; when valid, binds `traceId` and
 * the request scope's new `spanId` to `request.log` (and `reply.log`, which
 * writes Fastify's "request completed" line) and returns them. A request
 * without the header costs one header lookup.
 */
export function startTrace(
  request: FastifyRequest,
  reply: FastifyReply,
): IncomingTrace | undefined {
  const header = request.headers.traceparent;
  if (header === undefined) return undefined;
  const parsed = parseTraceparent(header);
  if (parsed === undefined) return undefined;
  const spanId = generateSpanId();
  request.log = reply.log = request.log.child({ traceId: parsed.traceId, spanId });
  return { traceId: parsed.traceId, parentSpanId: parsed.parentSpanId, spanId };
}

/** Records the trace on the request scope (`request.scope.traceId`, `spanId`). */
export function adoptRequestTrace(requestScope: Scope, trace: IncomingTrace): void {
  adoptTrace(requestScope, trace.traceId, trace.spanId, trace.parentSpanId);
}

/** Validates `traceparent` and `scopeTreeRoute`. */
export function checkTraceOptions(
  where: string,
  traceparent: unknown,
  scopeTreeRoute: unknown,
): { traceparent: boolean; scopeTreeRoute: string | undefined } {
  if (traceparent !== undefined && typeof traceparent !== "boolean") {
    fail(where, "traceparent", "a boolean or omitted", traceparent, false);
  }
  if (scopeTreeRoute !== undefined) {
    if (typeof scopeTreeRoute !== "string") {
      fail(
        where,
        "scopeTreeRoute",
        'a path such as "/_scope/tree" or omitted',
        scopeTreeRoute,
        false,
      );
    }
    if (!scopeTreeRoute.startsWith("/")) {
      fail(where, "scopeTreeRoute", 'a path starting with "/"', scopeTreeRoute, true);
    }
  }
  return { traceparent: traceparent === true, scopeTreeRoute };
}

/**
 * `GET <path>`: the live scope tree under `root` as text (`?format=mermaid`
 * for a Mermaid diagram). Request scopes are named after request ids.
 */
export function serveScopeTree(fastify: FastifyInstance, root: Scope, path: string): void {
  fastify.get(path, { config: { scope: { timeout: false } } }, (request, reply) => {
    const format = (request.query as { format?: unknown } | undefined)?.format;
    const text = root.debugTree({ format: format === "mermaid" ? "mermaid" : "ascii" });
    reply.header("cache-control", "no-store").type("text/plain; charset=utf-8").send(text + "\n");
  });
}
