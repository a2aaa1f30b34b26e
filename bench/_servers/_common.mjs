// Shared by the benchmark servers. Plain JavaScript so that the same file runs under Deno (which
// loads the TypeScript sources, mod.ts) and under Node 20 (which loads the built npm/esm/mod.js).
import process from "node:process";
import { standinPlugin } from "./standin_plugin.mjs";

/** Parses `--name value` pairs from the command line. */
export function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i];
    if (key.startsWith("--")) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) out[key.slice(2)] = "true";
      else {
        out[key.slice(2)] = next;
        i++;
      }
    }
  }
  return out;
}

/**
 * Loads the plugin from a module specifier. Falls back to the stand-in (and says why) when the
 * module cannot be loaded or does not export `fastifyGoGoScope` yet.
 */
export async function loadPlugin(spec) {
  if (spec === undefined || spec === "standin") {
    return { plugin: standinPlugin, pluginSource: "stand-in (forced)" };
  }
  try {
    const mod = await import(spec);
    if (typeof mod.fastifyGoGoScope === "function") {
      return { plugin: mod.fastifyGoGoScope, pluginSource: spec };
    }
    return {
      plugin: standinPlugin,
      pluginSource: `stand-in (${spec} does not export fastifyGoGoScope yet)`,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { plugin: standinPlugin, pluginSource: `stand-in (${spec} failed to load: ${message})` };
  }
}

/** Writes one JSON line on stdout: the only channel from a server to the orchestrator. */
export function send(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

/** Runs `gc()` a few times (needs --expose-gc) and returns the heap in use. */
export async function heapAfterGc() {
  const gc = globalThis.gc;
  if (typeof gc === "function") {
    for (let i = 0; i < 4; i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  return process.memoryUsage().heapUsed;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Line-based control over stdin (so no control traffic ever reaches the HTTP server being
 * measured). `handlers[command]` returns the reply object. The server closes itself when stdin
 * ends (the orchestrator went away), on the `close` command, or after `maxSeconds`.
 */
export function serveControl(app, handlers, maxSeconds) {
  let closing = false;
  const shutdown = async (why) => {
    if (closing) return;
    closing = true;
    try {
      await app.close();
    } finally {
      send({ type: "closed", why });
      process.exit(0);
    }
  };
  const lifetime = setTimeout(() => shutdown("max-seconds"), maxSeconds * 1000);
  lifetime.unref?.();
  let buffered = "";
  process.stdin.setEncoding("utf8");
  process.stdin.on("data", async (chunk) => {
    buffered += chunk;
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      const command = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (command === "close") return shutdown("close");
      const handler = handlers[command];
      if (handler === undefined) send({ type: "error", message: `unknown command ${command}` });
      else send({ type: command, ...(await handler()) });
    }
  });
  process.stdin.on("end", () => shutdown("stdin-end"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
}

/**
 * The measured server's side of the protocol, shared by every server script: `mark` remembers
 * the CPU time and the requests served so far, `report` answers what was spent since (plus
 * `extra.report()`'s fields), `gc` runs one full garbage collection when the runtime exposes
 * `gc()` (so that a counted window starts with an empty young generation), and the `ready` line
 * announces the server to the orchestrator. `served()` reads the script's request counter.
 */
export function announceCounted(app, { variant, pluginSource, maxSeconds, served, extra }) {
  let markCpu = process.cpuUsage();
  let markServed = 0;
  serveControl(app, {
    gc: () => {
      // Young-generation collections only: a full collection forced by gc() flushes the bytecode
      // of every function not on the stack, and everything would be compiled and optimised again
      // inside the window. The second collection promotes what the first one kept.
      const gc = globalThis.gc;
      if (typeof gc === "function") { for (let i = 0; i < 2; i++) gc({ type: "minor" }); }
      return { collected: typeof gc === "function" };
    },
    mark: () => {
      markServed = served();
      extra?.mark();
      markCpu = process.cpuUsage();
      return {};
    },
    report: () => {
      const cpu = process.cpuUsage(markCpu);
      return {
        cpuMicros: cpu.user + cpu.system,
        served: served() - markServed,
        ...extra?.report(),
      };
    },
  }, maxSeconds);
  send({
    type: "ready",
    port: app.server.address().port,
    variant,
    pluginSource,
    fastify: app.version,
    pid: process.pid,
    runtime: typeof globalThis.Deno === "object" ? "deno" : "node",
  });
}
