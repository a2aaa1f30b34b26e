/**
 * Tracing: an OpenTelemetry span for every task of a request scope or of the
 * root, run with its span active, ended however the task ends; the request's
 * SERVER span when nothing else made one; and, when the client leaves, the
 * end of every span of that request, `@fastify/otel`'s request span included.
 *
 * @module
 */
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import type { FastifyRequest } from "fastify";
import { CircuitBreaker, CircuitOpenError } from "../core/mod.ts";
import type {
  InstrumentedOptions,
  InstrumentedScope,
  InstrumentedTask,
  TaskInstrument,
  TaskOutcome,
  TaskProbe,
} from "../core/internal.ts";
import {
  type Feature,
  type ObservedView,
  reasonOf,
  type RequestEnd,
  type RequestWatcher,
} from "../fastify/_observe.ts";
import { PACKAGE_NAME, PACKAGE_VERSION } from "./_package.ts";

/** Marks a context made by a task's span: a task started inside one nests under it. */
const IN_TASK = createContextKey("@go-go-scope/adapter-fastify task");

/** What `@fastify/otel` decorates requests with (`request.opentelemetry()`). */
interface FastifyOtelRequest {
  opentelemetry?: () => { span?: Span | null; context?: Context | null };
}

// The HTTP semantic conventions' known methods; any other is `_OTHER`.
const METHODS = new Set([
  "CONNECT",
  "DELETE",
  "GET",
  "HEAD",
  "OPTIONS",
  "PATCH",
  "POST",
  "PUT",
  "TRACE",
  "QUERY",
]);

/** The name of a task's span: its `name` option, else its function's name, else `task`. */
function spanName(fn: (...args: never[]) => unknown, options: InstrumentedOptions | undefined) {
  const named = options?.name;
  if (named !== undefined) return named;
  const name = fn.name;
  return name === "" || name === "anonymous" ? "task" : name;
}

/** The breaker a task goes through: its own option (an instance, or false), else its scope's. */
function breakerOf(
  scope: InstrumentedScope,
  options: InstrumentedOptions | undefined,
): CircuitBreaker | undefined {
  const own = options?.circuitBreaker;
  if (own === false) return undefined;
  if (own instanceof CircuitBreaker) return own;
  return scope.circuitBreaker;
}

/** A task's span, active while its function runs. */
class TaskSpan implements TaskProbe {
  readonly #span: Span;
  readonly #context: Context;
  readonly #breaker: CircuitBreaker | undefined;
  #retries = 0;

  constructor(span: Span, parent: Context, breaker: CircuitBreaker | undefined) {
    this.#span = span;
    this.#context = trace.setSpan(parent, span).setValue(IN_TASK, true);
    this.#breaker = breaker;
  }

  run<A, R>(fn: (arg: A) => R, arg: A): R {
    return context.with(this.#context, fn, undefined, arg);
  }

  retry(attempt: number, error: Error, delayMs: number): void {
    this.#retries = attempt;
    this.#span.addEvent("gogoscope.task.retry", {
      "gogoscope.task.attempt": attempt + 1,
      "gogoscope.retry.delay_ms": delayMs,
      "exception.type": error.name,
      "exception.message": error.message,
    });
  }

  end(outcome: TaskOutcome, error: Error | undefined, reason: unknown): void {
    const span = this.#span;
    span.setAttribute("gogoscope.task.outcome", outcome);
    if (this.#retries > 0) span.setAttribute("gogoscope.task.retries", this.#retries);
    const breaker = this.#breaker;
    if (breaker !== undefined) span.setAttribute("gogoscope.circuit_breaker.state", breaker.state);
    if (outcome === "error") {
      if (error instanceof CircuitOpenError) {
        span.addEvent("gogoscope.circuit_breaker.rejected");
      }
      span.setAttribute("error.type", error?.name ?? "_OTHER");
      if (error !== undefined) span.recordException(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error?.message ?? "" });
    } else if (outcome !== "ok") {
      const why = reasonOf(reason);
      span.setAttribute("error.type", why);
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: reason instanceof Error ? reason.message : why,
      });
    }
    span.end();
  }
}

/** Starts a task's span under `parent`. */
function startTask(
  tracer: Tracer,
  parent: Context,
  task: InstrumentedTask,
  scope: InstrumentedScope,
  fn: (...args: never[]) => unknown,
  options: InstrumentedOptions | undefined,
): TaskProbe {
  const attributes: Attributes = {
    "gogoscope.task.id": task.id,
    "gogoscope.scope.name": scope.name,
  };
  if (options !== undefined) {
    if (options.name !== undefined) attributes["gogoscope.task.name"] = options.name;
    if (options.timeout !== undefined) attributes["gogoscope.task.timeout_ms"] = options.timeout;
    if (options.retry !== undefined) attributes["gogoscope.task.retry"] = true;
  }
  const span = tracer.startSpan(
    spanName(fn, options),
    { kind: SpanKind.INTERNAL, attributes },
    parent,
  );
  return new TaskSpan(span, parent, breakerOf(scope, options));
}

/** The context a task is started in, when it is the active one (a task inside a task). */
function taskContext(): Context | undefined {
  const active = context.active();
  return active.getValue(IN_TASK) === true ? active : undefined;
}

/** One request's tracing: its tasks' parent, its own SERVER span if it made one. */
class RequestTracing implements RequestWatcher {
  readonly #tracer: Tracer;
  readonly #request: FastifyRequest & FastifyOtelRequest;
  #parent: Context | undefined;
  #server: Span | undefined;

  constructor(tracer: Tracer, view: ObservedView) {
    this.#tracer = tracer;
    this.#request = view.request as FastifyRequest & FastifyOtelRequest;
    // With @fastify/otel, its request span is the parent (found lazily: its
    // onRequest hook may run after ours).
    if (typeof this.#request.opentelemetry === "function") return;
    let active = context.active();
    if (trace.getSpan(active) !== undefined) {
      this.#parent = active; // an HTTP server span made by other instrumentation
      return;
    }
    // A trace the client continues (`traceparent`, with the propagator the SDK registered).
    active = propagation.extract(active, view.request.headers);
    const method = METHODS.has(view.method) ? view.method : "_OTHER";
    const attributes: Attributes = {
      "http.request.method": method,
      "url.path": view.path,
      "url.scheme": view.request.protocol,
    };
    if (method === "_OTHER") attributes["http.request.method_original"] = view.method;
    if (view.route !== undefined) attributes["http.route"] = view.route;
    const name = view.route === undefined
      ? (method === "_OTHER" ? "HTTP" : method)
      : `${method === "_OTHER" ? "HTTP" : method} ${view.route}`;
    this.#server = tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, active);
    this.#parent = trace.setSpan(active, this.#server);
  }

  /** The request's span context: ours, the HTTP server's, or @fastify/otel's once it exists. */
  #requestContext(): Context {
    if (this.#parent !== undefined) return this.#parent;
    const otel = this.#request.opentelemetry?.();
    const found = otel?.context;
    if (found !== undefined && found !== null && trace.getSpan(found) !== undefined) {
      return this.#parent = found;
    }
    return context.active();
  }

  start(
    task: InstrumentedTask,
    scope: InstrumentedScope,
    fn: (...args: never[]) => unknown,
    options: InstrumentedOptions | undefined,
  ): TaskProbe {
    const parent = taskContext() ?? this.#requestContext();
    return startTask(this.#tracer, parent, task, scope, fn, options);
  }

  end(how: RequestEnd): void {
    const server = this.#server;
    const cancelled = how.cancelled;
    if (server !== undefined) {
      const status = how.statusCode;
      if (status !== undefined) server.setAttribute("http.response.status_code", status);
      if (cancelled !== undefined && !(status !== undefined && status >= 500)) {
        server.setAttribute("error.type", reasonOf(cancelled));
        server.setStatus({ code: SpanStatusCode.ERROR });
      } else if (status !== undefined && status >= 500) {
        server.setAttribute("error.type", String(status));
        server.setStatus({ code: SpanStatusCode.ERROR });
      }
      server.end();
      return;
    }
    // The client left before @fastify/otel's onSend ended its span (it ends
    // it nowhere else): end it here, as the HTTP conventions say.
    if (cancelled === undefined || typeof this.#request.opentelemetry !== "function") return;
    const why = reasonOf(cancelled);
    if (why !== "client_disconnected" && why !== "stream_error") return;
    const span = this.#request.opentelemetry()?.span;
    if (span === undefined || span === null || !span.isRecording()) return;
    if (how.statusCode !== undefined) {
      span.setAttribute("http.response.status_code", how.statusCode);
    }
    span.setAttribute("error.type", why);
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

/** The `tracing` feature: request scopes' and the root's tasks get spans. */
export class Tracing implements Feature {
  readonly #tracer: Tracer;
  readonly root: TaskInstrument;

  /** @param tracer The tracer to use; the global provider's when omitted. */
  constructor(tracer?: Tracer) {
    const used = tracer ?? trace.getTracer(PACKAGE_NAME, PACKAGE_VERSION);
    this.#tracer = used;
    this.root = {
      start: (task, scope, fn, options) =>
        startTask(used, context.active(), task, scope, fn, options),
    };
  }

  watch(view: ObservedView): RequestWatcher {
    return new RequestTracing(this.#tracer, view);
  }
}
