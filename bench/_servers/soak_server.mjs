// The soak-test server: `--variant plugin|bare`, `--plugin <module specifier>|standin`.
// Run with --expose-gc (Node) or --v8-flags=--expose-gc (Deno). Logs nothing per request.
//
//   GET /            { ok: true }                       (no task)
//   GET /task        { ok: true } from one quick task
//   GET /slow        a task that sleeps --slow-ms, honouring its signal
//   GET /fail        a task that throws -> 500
//   GET /hang        a task that sleeps --hang-ms; the client disconnects before it ends
//                    (also sent pipelined, several at once on a socket the client then drops)
//   GET /deadline?ms=N  a quick task with its own `timeout: N` (a distinct value per request)
//   GET /__stats     runs gc, returns { heapUsed, childCount, ... }
//
// A second, HTTP/2 instance (port `h2port` in the ready message) serves GET /hang too, for
// streams the client resets; with ?early=1 an async onRequest hook registered before the plugin
// waits 10 ms first, so the reset lands while it runs.
//
// With `--variant bare` the same routes do the same work with plain promises and no scope.
import process from "node:process";
import Fastify from "fastify";
import { heapAfterGc, loadPlugin, parseArgs, send, serveControl, sleep } from "./_common.mjs";

const args = parseArgs(process.argv.slice(2));
const variant = args.variant ?? "plugin";
if (!["bare", "plugin"].includes(variant)) throw new Error(`unknown variant ${variant}`);
const slowMs = Number(args["slow-ms"] ?? 20);
const hangMs = Number(args["hang-ms"] ?? 50);

const app = Fastify({ logger: false });
const h2 = Fastify({ logger: false, http2: true });
h2.addHook("onRequest", async (request) => {
  if (request.url.endsWith("?early=1")) await sleep(10);
});
let pluginSource = "none";
if (variant === "plugin") {
  const loaded = await loadPlugin(args.plugin);
  pluginSource = loaded.pluginSource;
  await app.register(loaded.plugin);
  await h2.register(loaded.plugin);
}

const counts = { hangStarted: 0, hangCancelled: 0, hangCompleted: 0 };
const withScope = variant === "plugin";

app.get("/", async () => ({ ok: true }));

app.get("/task", async (request) => {
  if (!withScope) return await Promise.resolve({ ok: true });
  const [error, value] = await request.scope.task(() => ({ ok: true }));
  if (error) throw error;
  return value;
});

app.get("/slow", async (request) => {
  if (!withScope) {
    await sleep(slowMs);
    return { ok: true };
  }
  const [error] = await request.scope.task(({ signal }) => sleep(slowMs, signal));
  if (error) throw error;
  return { ok: true };
});

app.get("/fail", async (request) => {
  if (!withScope) throw new Error("dependency failed");
  const [error] = await request.scope.task(() => {
    throw new Error("dependency failed");
  });
  if (error) throw error;
  return { ok: true };
});

app.get("/deadline", async (request) => {
  const ms = Number(request.query.ms);
  if (!withScope) return await Promise.resolve({ ok: true, ms });
  const [error, value] = await request.scope.task(() => ({ ok: true, ms }), { timeout: ms });
  if (error) throw error;
  return value;
});

async function hang(request) {
  counts.hangStarted++;
  if (!withScope) {
    await sleep(hangMs);
    counts.hangCompleted++;
    return { ok: true };
  }
  const [error] = await request.scope.task(({ signal }) => sleep(hangMs, signal));
  if (error) {
    counts.hangCancelled++;
    throw error;
  }
  counts.hangCompleted++;
  const kind = request.raw.httpVersionMajor === 2
    ? "h2"
    : request.url.includes("pipelined=1")
    ? "pipelined"
    : "http1";
  completedBy[kind] = (completedBy[kind] ?? 0) + 1;
  return { ok: true };
}
const completedBy = {};
app.get("/hang", hang);
h2.get("/hang", hang);

// childCount is a getter on the core's Scope; null when the scope does not have it. The /__stats
// request's own scope (created by its first read, here) is alive while this handler runs, so it
// is subtracted.
function liveChildren(request) {
  const own = request.scope;
  const count = app.scope?.childCount;
  if (typeof count !== "number") return null;
  return (own ? count - 1 : count) + (h2.scope?.childCount ?? 0);
}

app.get("/__stats", async (request) => {
  const heapUsed = await heapAfterGc();
  return { heapUsed, childCount: liveChildren(request), ...counts, completedBy };
});

// The client closes its HTTP/2 session first; a session left open must not hold the exit.
app.addHook("onClose", async () => void await Promise.race([h2.close(), sleep(1000)]));
await app.listen({ host: "127.0.0.1", port: 0 });
await h2.listen({ host: "127.0.0.1", port: 0 });
serveControl(app, {}, Number(args["max-seconds"] ?? 3600));
send({
  type: "ready",
  port: app.server.address().port,
  h2port: h2.server.address().port,
  variant,
  pluginSource,
  gc: typeof globalThis.gc === "function",
  runtime: typeof globalThis.Deno === "object" ? "deno" : "node",
});
