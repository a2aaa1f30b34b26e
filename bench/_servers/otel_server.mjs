// What tracing costs, for `bench:instr --script bench/_servers/otel_server.mjs --any-variant`
// (BENCHMARKS.md, "Tracing"). Every variant but `bare` runs the real OpenTelemetry SDK (a
// BasicTracerProvider, always sampled, with the AsyncLocalStorage context manager) whose spans
// go to a processor that drops them (so export is not counted):
//
//   bare        bare Fastify, no SDK
//   sdk         + the SDK installed, nothing traced (the floor of the rows below)
//   fotel       + @fastify/otel (its request span and a span per hook and handler)
//   task        + the plugin and one request.scope.task() per request, tracing off
//   tracing     + the plugin with `tracing: true` and one task (the plugin's SERVER span + 1 task span)
//   tracing3    the same with three sequential tasks (per task span: (tracing3 - tracing) / 2)
//   both        @fastify/otel + the plugin with `tracing: true` and one task
//
// `--plugin` is the plugin module (mod.ts under Deno, npm/esm/mod.js under Node).
import process from "node:process";
import Fastify from "fastify";
import { context, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { FastifyOtelInstrumentation } from "@fastify/otel";
import { announceCounted, loadPlugin, parseArgs } from "./_common.mjs";

const VARIANTS = ["bare", "sdk", "fotel", "task", "tracing", "tracing3", "both"];
const args = parseArgs(process.argv.slice(2));
const variant = args.variant ?? "bare";
if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);

const dropping = {
  onStart() {},
  onEnd() {},
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};
const provider = new BasicTracerProvider({ spanProcessors: [dropping] });
if (variant !== "bare") {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
}

const app = Fastify({ logger: false });
if (variant === "fotel" || variant === "both") {
  const instrumentation = new FastifyOtelInstrumentation();
  instrumentation.setTracerProvider(provider);
  await app.register(instrumentation.plugin());
}
let pluginSource = "none";
const tracing = variant === "tracing" || variant === "tracing3" || variant === "both";
if (variant === "task" || tracing) {
  const loaded = await loadPlugin(args.plugin);
  pluginSource = loaded.pluginSource;
  await app.register(loaded.plugin, tracing ? { tracing: true } : {});
}

let served = 0;
const tasks = variant === "tracing3" ? 3 : variant === "task" || tracing ? 1 : 0;
const work = () => ({ ok: true });
if (tasks > 0) {
  app.get("/", async (request) => {
    served++;
    let value;
    for (let i = 0; i < tasks; i++) {
      const [error, result] = await request.scope.task(work, { name: "work" });
      if (error) throw error;
      value = result;
    }
    return value;
  });
} else {
  app.get("/", async () => {
    served++;
    return { ok: true };
  });
}

await app.listen({ host: "127.0.0.1", port: 0 });
announceCounted(app, {
  variant,
  pluginSource,
  maxSeconds: Number(args["max-seconds"] ?? 3600),
  served: () => served,
});
