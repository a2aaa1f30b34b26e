/**
 * Metrics for Prometheus: the plugin's `metrics` option on an OpenTelemetry
 * `MeterProvider` whose reader is `@opentelemetry/exporter-prometheus`, served
 * by Fastify itself at `GET /metrics` (no second port). `tests/otel/` scrapes it.
 *
 * ```ts
 * const { app } = await prometheusExample();
 * await app.listen({ port: 3000 });
 * // curl http://127.0.0.1:3000/metrics
 * ```
 *
 * Run it: `deno run --config deno.dev.json -A examples/prometheus.ts`, then
 * `curl http://127.0.0.1:3000/work?ms=20` and `curl http://127.0.0.1:3000/metrics`.
 *
 * @module
 */
import Fastify, { type FastifyInstance } from "fastify";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
// In an application: from '@go-go-scope/adapter-fastify'.
import { fastifyGoGoScope } from "../src/fastify/mod.ts";

/** The example app and its meter provider (shut it down after `app.close()`). */
export interface PrometheusExample {
  readonly app: FastifyInstance;
  readonly meterProvider: MeterProvider;
}

/**
 * An app with `metrics` on, `GET /work?ms=` (one task that sleeps `ms`), and
 * `GET /metrics` in Prometheus' text format.
 */
export async function prometheusExample(): Promise<PrometheusExample> {
  // No server of its own: Fastify serves the scrape.
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ readers: [exporter] });

  const app = Fastify();
  await app.register(fastifyGoGoScope, {
    timeout: 5_000,
    metrics: { meter: meterProvider.getMeter("my-api") },
  });

  app.get("/metrics", (request, reply) => {
    reply.hijack();
    exporter.getMetricsRequestHandler(request.raw, reply.raw);
  });

  app.get<{ Querystring: { ms?: string } }>("/work", async (request) => {
    const ms = Number(request.query.ms ?? 10);
    const [err] = await request.scope.task(
      ({ signal }) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, ms);
          signal.addEventListener("abort", () => {
            clearTimeout(timer);
            reject(signal.reason);
          }, { once: true });
        }),
      { name: "work" },
    );
    if (err) throw err;
    return { slept: ms };
  });

  return { app, meterProvider };
}

if (import.meta.main) {
  const { app } = await prometheusExample();
  await app.listen({ host: "127.0.0.1", port: 3000 });
  console.log("http://127.0.0.1:3000/work?ms=20 then http://127.0.0.1:3000/metrics");
}
