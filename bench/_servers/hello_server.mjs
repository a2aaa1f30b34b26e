// One benchmark server: `--variant <name>`, one of
// - bare: bare Fastify; control: bare Fastify again, in a process of its own (the noise floor of a
//   comparison);
// - plugin: + fastifyGoGoScope; scope: the handler reads request.scope and runs no task (what a task
//   adds is task minus scope); task: + one awaited request.scope.task();
// - await, plugin-await: the handler awaits an async function (without, with the plugin);
// - floor: bare Fastify whose handler awaits what a task's contract is made of, with no scope and
//   no plugin: an instance of a Promise subclass, resolved to a Result tuple and destructured;
// - listener: bare Fastify whose handler adds one 'close' listener to the response, the least that
//   watching a request costs.
// `--plugin <module specifier>|standin`.
// Listens on 127.0.0.1 port 0, logs nothing per request, prints one `ready` JSON line with its
// port, and answers `mark` / `report` on stdin with the process CPU time and the number of `GET /`
// requests served since the last mark.
import process from "node:process";
import v8 from "node:v8";
import { PerformanceObserver } from "node:perf_hooks";
import Fastify from "fastify";
import { announceCounted, loadPlugin, parseArgs } from "./_common.mjs";

const args = parseArgs(process.argv.slice(2));
const variant = args.variant ?? "bare";
const VARIANTS = [
  "bare",
  "control",
  "plugin",
  "scope",
  "task",
  "await",
  "plugin-await",
  "floor",
  "listener",
];
if (!VARIANTS.includes(variant)) {
  throw new Error(`unknown variant ${variant}`);
}

const app = Fastify({ logger: false });
let pluginSource = "none";
if (["plugin", "scope", "task", "plugin-await"].includes(variant)) {
  const loaded = await loadPlugin(args.plugin);
  pluginSource = loaded.pluginSource;
  await app.register(loaded.plugin);
}

let served = 0;
if (variant === "task") {
  app.get("/", async (request) => {
    served++;
    const [error, value] = await request.scope.task(() => ({ ok: true }));
    if (error) throw error;
    return value;
  });
} else if (variant === "scope") {
  app.get("/", async (request) => {
    served++;
    if (request.scope.isDisposed) throw new Error("disposed");
    return { ok: true };
  });
} else if (variant === "await" || variant === "plugin-await") {
  // Reference for `task`: the handler awaits the same function directly (with or without the plugin).
  const fn = async () => ({ ok: true });
  app.get("/", async () => {
    served++;
    return await fn();
  });
} else if (variant === "floor") {
  // What any implementation of `await scope.task(fn)` pays with no scope at all: `task()` returns an
  // object that is a promise (awaitable as one) with methods of its own (a Promise subclass whose
  // constructor reads as Promise, as Task's does), which resolves to `[error, value]`.
  let captured;
  const capture = (resolve) => {
    captured = resolve;
  };
  class Floor extends Promise {
    constructor(value) {
      super(capture);
      const resolve = captured;
      captured = undefined;
      resolve([undefined, value]);
    }
  }
  Object.defineProperty(Floor.prototype, "constructor", {
    value: Promise,
    writable: true,
    configurable: true,
  });
  app.get("/", async () => {
    served++;
    const [error, value] = await new Floor({ ok: true });
    if (error) throw error;
    return value;
  });
} else if (variant === "listener") {
  app.get("/", async (_request, reply) => {
    served++;
    let closed = false;
    reply.raw.on("close", () => {
      closed = true;
    });
    return closed ? { ok: false } : { ok: true };
  });
} else {
  app.get("/", async () => {
    served++;
    return { ok: true };
  });
}

await app.listen({ host: "127.0.0.1", port: 0 });

// Garbage collection on the main thread (Node reports it; Deno does not, and reads 0).
let gcCount = 0;
let gcMs = 0;
try {
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount++;
      gcMs += entry.duration;
    }
  }).observe({ entryTypes: ["gc"] });
} catch {
  // not supported by this runtime
}
const newSpaceBytes = () =>
  v8.getHeapSpaceStatistics?.().find((s) => s.space_name === "new_space")?.space_size ?? 0;

let markGcCount = 0;
let markGcMs = 0;
announceCounted(app, {
  variant,
  pluginSource,
  maxSeconds: Number(args["max-seconds"] ?? 3600),
  served: () => served,
  extra: {
    mark: () => {
      markGcCount = gcCount;
      markGcMs = gcMs;
    },
    report: () => ({
      gcCount: gcCount - markGcCount,
      gcMs: gcMs - markGcMs,
      newSpaceBytes: newSpaceBytes(),
    }),
  },
});
