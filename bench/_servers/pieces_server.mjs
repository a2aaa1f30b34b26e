// The plugin's pieces added to bare Fastify one at a time, for `bench:instr --script` (see
// BENCHMARKS.md, "Where the Deno cost goes"). Each variant adds one piece to the one before it:
//
//   bare       no hook
//   import     (aside) bare + a dynamic import of a small module (the stand-in plugin), unused
//   modules    (aside) bare + ten tiny ES module files, each importing the next (Node 20's module
//              loader makes every later request dearer; BENCHMARKS.md, 2026-12-07)
//   load       + the plugin's module graph imported (the whole of mod.ts) and a root scope created
//   decorate   + decorateRequest("scope", null)
//   hook       + an onRequest hook that only calls done()
//   close      + a 'close' listener (a fresh closure) on reply.raw
//   scope      + a request scope (childScope of a root scope), assigned to request.scope
//   dispose    + the listener cancels/disposes the scope: the plugin's work, without fastify-plugin
//   plugin     the real plugin (fastifyGoGoScope), for comparison with `dispose`
//   task       the real plugin + one awaited request.scope.task() per request
//
// Alternatives, each on top of `hook`: close-shared (the 'close' listener without a closure),
// finish (a 'finish' listener instead), socket (one 'close' listener per socket). And on top of
// `decorate` instead of `hook`: onsend (an empty onSend hook), onsend-store (an onSend hook that
// stores the reply in a symbol field, as the plugin's does), accessor (the plugin's decorators: a
// symbol field and a `scope` accessor, with an empty onSend hook), wrapper (a route handler wrapper,
// set in onRoute, that stores the reply on the request), decorate4 (three more
// `decorateRequest(symbol, null)`: the plugin declares four per-request fields; Fastify's request
// constructor stores every decorator per request).
//
// `--plugin` is the plugin module (mod.ts under Deno, npm/esm/mod.js under Node); the core's
// internal door is found next to it.
import process from "node:process";
import { mkdirSync, writeFileSync } from "node:fs";
import Fastify from "fastify";
import { announceCounted, loadPlugin, parseArgs } from "./_common.mjs";

const args = parseArgs(process.argv.slice(2));
const variant = args.variant ?? "bare";
const ORDER = ["bare", "control", "load", "decorate", "hook", "close", "scope", "dispose"];
// Alternatives to the ladder's 'close' step, each on top of `hook`: the same listener without a
// closure (shared), a listener on 'finish' instead, and one 'close' listener per socket.
// And alternatives to `hook` on top of `decorate`: an empty onSend hook instead, and a route
// handler wrapper (set in onRoute) that stores the reply on the request.
const ALTERNATIVES = ["close-shared", "finish", "socket"];
const DECORATED = ["onsend", "onsend-store", "accessor", "wrapper", "decorate4"];
const alternative = ALTERNATIVES.includes(variant) ? variant : undefined;
const level = alternative !== undefined
  ? ORDER.indexOf("hook")
  : DECORATED.includes(variant)
  ? ORDER.indexOf("decorate")
  : ORDER.indexOf(variant);
if (level < 0 && !["plugin", "task", "import", "modules"].includes(variant)) {
  throw new Error(`unknown variant ${variant}`);
}
const has = (piece) => level >= ORDER.indexOf(piece);

const app = Fastify({ logger: false });
let pluginSource = "none";
if (variant === "plugin" || variant === "task") {
  const loaded = await loadPlugin(args.plugin);
  pluginSource = loaded.pluginSource;
  await app.register(loaded.plugin);
} else if (variant === "import") {
  await import("./standin_plugin.mjs");
} else if (variant === "modules") {
  // Files: ten data: URL modules do not show it, file modules do (BENCHMARKS.md, 2026-12-07).
  const dir = new URL("../../.tmp/ten_modules/", import.meta.url);
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < 10; i++) {
    const body = i === 9
      ? "export const value = 9;\n"
      : `import { value as v } from "./m${i + 1}.mjs";\nexport const value = v + ${i};\n`;
    writeFileSync(new URL(`m${i}.mjs`, dir), body);
  }
  await import(new URL("m0.mjs", dir).href);
} else if (has("load")) {
  await import(args.plugin);
  const ext = args.plugin.endsWith(".ts") ? ".ts" : ".js";
  const core = await import(new URL(`./src/core/mod${ext}`, args.plugin).href);
  const door = await import(new URL(`./src/core/internal${ext}`, args.plugin).href);
  const root = core.scope({ name: "fastify-app", logger: app.log });
  pluginSource = args.plugin;
  if (variant === "accessor") {
    // The plugin's way: one symbol field, and `scope` an accessor on the prototype.
    const kState = Symbol("state");
    app.decorateRequest(kState, null);
    app.decorateRequest("scope", { getter: () => root, setter: () => {} });
  } else if (has("decorate")) app.decorateRequest("scope", null);
  if (variant === "decorate4") {
    for (const name of ["reply", "settings", "watch"]) app.decorateRequest(Symbol(name), null);
  } else if (variant === "onsend" || variant === "accessor") {
    app.addHook("onSend", function onSend(_request, _reply, _payload, done) {
      done();
    });
  } else if (variant === "onsend-store") {
    // The plugin's onSend on a request whose scope was never read: the reply stored on the request.
    const kState = Symbol("state");
    app.decorateRequest(kState, null);
    app.addHook("onSend", function onSend(request, reply, _payload, done) {
      if (request[kState] === null) request[kState] = reply;
      done();
    });
  } else if (variant === "wrapper") {
    const kReply = Symbol("reply");
    app.decorateRequest(kReply, null);
    app.addHook("onRoute", (route) => {
      const handler = route.handler;
      route.handler = function wrapped(request, reply) {
        request[kReply] = reply;
        return handler.call(this, request, reply);
      };
    });
  }
  if (has("hook")) {
    const watched = new WeakSet();
    const shared = function () {};
    app.addHook("onRequest", function onRequest(request, reply, done) {
      if (alternative === "close-shared") reply.raw.on("close", shared);
      else if (alternative === "finish") reply.raw.on("finish", () => {});
      else if (alternative === "socket") {
        const socket = request.raw.socket;
        if (!watched.has(socket)) {
          watched.add(socket);
          socket.on("close", () => {});
        }
      }
      if (has("close")) {
        const raw = reply.raw;
        let own;
        if (has("scope")) {
          const id = request.id;
          own = door.childScope(root, {
            name: "request-" + id,
            logger: request.log,
            context: { requestId: id },
            timeout: undefined,
            concurrency: undefined,
            circuitBreaker: undefined,
          });
          request.scope = own;
        }
        let finished = false;
        raw.on("close", () => {
          if (finished) return;
          finished = true;
          if (has("dispose")) {
            if (!raw.writableEnded && !own.isAborted) own.cancel(new Error("client left"));
            door.disposeScope(own)?.catch(() => {});
          }
        });
      }
      done();
    });
  }
}

let served = 0;
if (variant === "task") {
  app.get("/", async (request) => {
    served++;
    const [error, value] = await request.scope.task(() => ({ ok: true }));
    if (error) throw error;
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
