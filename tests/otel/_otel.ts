// The real OpenTelemetry SDK for the tests: a tracer provider exporting to
// memory (set as the global one, with the AsyncLocalStorage context manager),
// a processor that counts spans started and ended (none may stay open), and a
// meter provider read on demand.
import { context, type Span, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace-base";

/** Counts spans started and ended, and which are still open. */
export class OpenSpans implements SpanProcessor {
  readonly open: Set<Span> = new Set();
  started = 0;
  ended = 0;
  onStart(span: Span): void {
    this.started++;
    this.open.add(span);
  }
  onEnd(span: ReadableSpan): void {
    this.ended++;
    this.open.delete(span as unknown as Span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  reset(): void {
    this.open.clear();
    this.started = this.ended = 0;
  }
}

export const exporter: InMemorySpanExporter = new InMemorySpanExporter();
export const openSpans: OpenSpans = new OpenSpans();
export const provider: BasicTracerProvider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(exporter), openSpans],
});

let installed = false;
/** Sets the global tracer provider and context manager (once per process). */
export function installGlobalTracing(): void {
  if (installed) return;
  installed = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
}

/** The finished spans, and a reset for the next test. */
export function finished(): ReadableSpan[] {
  return exporter.getFinishedSpans();
}

export function resetSpans(): void {
  exporter.reset();
  openSpans.reset();
}

/** The one finished span named `name` (fails when there is not exactly one). */
export function only(name: string): ReadableSpan {
  const found = finished().filter((s) => s.name === name);
  if (found.length !== 1) {
    throw new Error(
      `expected one span "${name}", found ${found.length}: ${finished().map((s) => s.name)}`,
    );
  }
  return found[0]!;
}

/** The parent span id of `span` (SDK 2.x: `parentSpanContext`). */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

/**
 * A database-like client instrumented as the OpenTelemetry libraries are: a
 * CLIENT span under whatever context is active when it is called.
 */
export function fakeDatabase(): {
  query(sql: string, ms: number, signal?: AbortSignal): Promise<string>;
} {
  const tracer = trace.getTracer("fake-db");
  return {
    query(sql, ms, signal) {
      const span = tracer.startSpan("SELECT users", {
        kind: 2, // CLIENT
        attributes: { "db.system.name": "fakedb", "db.query.text": sql },
      }, context.active());
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          span.end();
          resolve("row");
        }, ms);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          span.end();
          reject(signal.reason);
        }, { once: true });
      });
    },
  };
}
