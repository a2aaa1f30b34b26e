// The handlers of the user's documentation, each beside what users would write instead with the
// libraries they already use. One route, `GET /`, per process: `--variant <name>` (see VARIANTS),
// `--plugin <module specifier>` (mod.ts under Deno, npm/esm/mod.js under Node).
// The forms named `*-ours` run with fastifyGoGoScope registered; the peers run on bare Fastify,
// since that is what their users have. Same control protocol as hello_server.mjs (stdin/stdout).
import process from "node:process";
import Fastify from "fastify";
import { fastifySSE } from "@fastify/sse";
import pRetry from "p-retry";
import pLimit from "p-limit";
import Opossum from "opossum";
import { circuitBreaker, ConsecutiveBreaker, handleAll } from "cockatiel";
import { all, call, run } from "effection";
import { announceCounted, parseArgs } from "./_common.mjs";

const VARIANTS = [
  "retry-ours",
  "retry-p-retry",
  "retry-loop",
  "retry1-ours",
  "retry1-p-retry",
  "retry1-loop",
  "fanout-ours",
  "fanout-p-limit",
  "fanout-effection",
  "breaker-ours",
  "breaker-opossum",
  "breaker-cockatiel",
  "stream-ours",
  "stream-generator",
];

const args = parseArgs(process.argv.slice(2));
const variant = args.variant ?? "";
if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}`);
const ours = variant.endsWith("-ours");

const app = Fastify({ logger: false });
let pluginSource = "none";
let mod;
if (ours) {
  mod = await import(args.plugin);
  pluginSource = args.plugin;
  // The breaker form gets the plugin's breaker option: every task goes through it.
  await app.register(
    mod.fastifyGoGoScope,
    variant === "breaker-ours"
      ? { circuitBreaker: { failureThreshold: 5, resetTimeout: 30_000 } }
      : {},
  );
}
if (variant.startsWith("stream-")) await app.register(fastifySSE);

const VALUE = { ok: true };
const TIMEOUT = 5_000;
let served = 0;

// The dependency: an async call that succeeds.
const dependency = async () => VALUE;
// The same dependency failing its first call in each request (a new one per request).
const flakyOnce = () => {
  let calls = 0;
  return async () => {
    if (calls++ === 0) throw new Error("flaky");
    return VALUE;
  };
};

// Retry settings, the same for every form. Succeeding first: the documentation's
// `retry: 'exponential'` (3 retries from 100 ms, doubling). Failing once: 3 retries from 1 ms,
// doubling, so that a request stays short.
const slow = { retries: 3, first: 100 };
const fast = { retries: 3, first: 1 };
const fastRetry = { max: 3, delay: (attempt) => 2 ** (attempt - 1) };

class TimeoutError extends Error {}

/** What users write by hand: a loop, a sleep between attempts, one timer for the whole call. */
async function retryLoop(fn, { retries, first }, timeoutMs) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    for (let attempt = 0;; attempt++) {
      try {
        return await Promise.race([fn(), expired]);
      } catch (error) {
        if (attempt >= retries || error instanceof TimeoutError) throw error;
        await new Promise((resolve) => setTimeout(resolve, first * 2 ** attempt));
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

const pRetryOptions = ({ retries, first }) => ({
  retries,
  minTimeout: first,
  factor: 2,
  randomize: false,
});

const fanA = async () => 1;
const fanB = async () => 2;
const fanC = async () => 3;

const opossum = new Opossum(dependency, {
  // No per-call timer: our breaker form has none either (the timeout belongs to the task).
  timeout: false,
  resetTimeout: 30_000,
});
const cockatiel = circuitBreaker(handleAll, {
  halfOpenAfter: 30_000,
  breaker: new ConsecutiveBreaker(5),
});

const EVENTS = Array.from({ length: 100 }, (_, n) => ({ id: String(n), data: { n } }));

switch (variant) {
  case "retry-ours":
    app.get("/", async (request) => {
      served++;
      const [error, value] = await request.scope.task(dependency, {
        retry: "exponential",
        timeout: TIMEOUT,
      });
      if (error) throw error;
      return value;
    });
    break;
  case "retry1-ours":
    app.get("/", async (request) => {
      served++;
      const [error, value] = await request.scope.task(flakyOnce(), {
        retry: fastRetry,
        timeout: TIMEOUT,
      });
      if (error) throw error;
      return value;
    });
    break;
  case "retry-p-retry":
  case "retry1-p-retry": {
    const settings = pRetryOptions(variant === "retry-p-retry" ? slow : fast);
    app.get("/", async () => {
      served++;
      const fn = variant === "retry-p-retry" ? dependency : flakyOnce();
      return await pRetry(fn, { ...settings, signal: AbortSignal.timeout(TIMEOUT) });
    });
    break;
  }
  case "retry-loop":
  case "retry1-loop": {
    const settings = variant === "retry-loop" ? slow : fast;
    app.get("/", async () => {
      served++;
      return await retryLoop(
        variant === "retry-loop" ? dependency : flakyOnce(),
        settings,
        TIMEOUT,
      );
    });
    break;
  }
  case "fanout-ours":
    app.get("/", async (request) => {
      served++;
      const [error, values] = await request.scope.parallel([fanA, fanB, fanC], { concurrency: 3 });
      if (error) throw error;
      return { values };
    });
    break;
  case "fanout-p-limit":
    app.get("/", async () => {
      served++;
      // Per request, like the request scope's limit.
      const limit = pLimit(3);
      const values = await Promise.all([limit(fanA), limit(fanB), limit(fanC)]);
      return { values };
    });
    break;
  case "fanout-effection":
    app.get("/", async () => {
      served++;
      const values = await run(function* () {
        return yield* all([call(fanA), call(fanB), call(fanC)]);
      });
      return { values };
    });
    break;
  case "breaker-ours":
    app.get("/", async (request) => {
      served++;
      const [error, value] = await request.scope.task(dependency);
      if (error) throw error;
      return value;
    });
    break;
  case "breaker-opossum":
    app.get("/", async () => {
      served++;
      return await opossum.fire();
    });
    break;
  case "breaker-cockatiel":
    app.get("/", async () => {
      served++;
      return await cockatiel.execute(dependency);
    });
    break;
  case "stream-ours":
    app.get("/", { sse: "manual" }, async (_request, reply) => {
      served++;
      await mod.streamEvents(reply, async (events) => {
        for (const event of EVENTS) if (!await events.send(event)) return;
      });
    });
    break;
  case "stream-generator":
    app.get("/", { sse: "manual" }, async (_request, reply) => {
      served++;
      async function* events() {
        for (const event of EVENTS) yield event;
      }
      await reply.sse.send(events());
    });
    break;
}

await app.listen({ host: "127.0.0.1", port: 0 });

announceCounted(app, {
  variant,
  pluginSource,
  maxSeconds: Number(args["max-seconds"] ?? 3600),
  served: () => served,
});
