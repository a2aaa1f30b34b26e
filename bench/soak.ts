/**
 * Soak test: one server process (the plugin, then bare Fastify for comparison) under many requests
 * over real keep-alive sockets from this process. 10% of the requests disconnect in the middle
 * (the handler awaits a task; the client destroys its socket first), 5% are bursts of
 * `--pipeline` pipelined requests on a socket the client drops while they run, 5% are HTTP/2
 * streams the client resets (half of them while an earlier async onRequest hook runs), 10% run a
 * task with a timeout value no other request uses, 10% are slow, 10% fail (the task throws: 500),
 * the rest are normal (with or without a task). The heap after GC and the root scope's live
 * children are sampled at the start and every `--sample-every` requests.
 *
 * Target: the heap ends within 2 MB of where it started, and the root has 0 live children.
 *
 * ```sh
 * deno task bench:soak                                  # 100,000 requests, Node and Deno
 * deno task bench:soak --requests 20000 --runtime node  # a quick run
 * ```
 *
 * @module
 */
import {
  denoRuntime,
  int,
  machineInfo,
  nodeRuntime,
  numberFlag,
  parseFlags,
  ROOT,
  type Runtime,
  ServerProcess,
  table,
} from "./_lib.ts";
import http2 from "node:http2";
import { Http1Connection } from "./_load/http1_client.ts";
import { probePlugin } from "./_plugin_probe.ts";

type Kind = "disconnect" | "pipeline" | "h2reset" | "deadline" | "slow" | "fail" | "task" | "hello";
type Variant = "plugin" | "bare";
const PATHS: Record<Kind, string> = {
  disconnect: "/hang",
  pipeline: "/hang",
  h2reset: "/hang",
  deadline: "/deadline",
  slow: "/slow",
  fail: "/fail",
  task: "/task",
  hello: "/",
};
const EXPECTED: Record<Kind, number> = {
  disconnect: 0,
  pipeline: 0,
  h2reset: 0,
  deadline: 200,
  slow: 200,
  fail: 500,
  task: 200,
  hello: 200,
};
const MB = 1024 * 1024;
const TARGET_HEAP_GROWTH = 2 * MB;

/**
 * The request mix, by index: 10% disconnect, 5% pipelined bursts dropped, 5% HTTP/2 resets,
 * 10% distinct timeouts, 10% slow, 10% fail, 25% task, 25% hello.
 */
function kindOf(index: number): Kind {
  const slot = ((index % 20) + 20) % 20;
  if (slot === 0 || slot === 10) return "disconnect";
  if (slot === 3) return "pipeline";
  if (slot === 13) return "h2reset";
  if (slot === 4 || slot === 14) return "deadline";
  if (slot === 1 || slot === 11) return "slow";
  if (slot === 2 || slot === 12) return "fail";
  if (slot <= 7 || slot === 15 || slot === 16) return "task";
  return "hello";
}

interface Stats {
  heapUsed: number;
  childCount: number | null;
  hangStarted: number;
  hangCancelled: number;
  hangCompleted: number;
  /** Handlers of /hang that ran to their end, by protocol ("http1", "h2"). */
  completedBy?: Record<string, number>;
}

interface SamplePoint {
  label: string;
  requests: number;
  stats: Stats;
}

interface RunResult {
  runtime: Runtime;
  variant: Variant;
  pluginSource: string;
  points: SamplePoint[];
  seconds: number;
  unexpected: number;
  failures: string[];
  connectionsOpened: number;
}

const flags = parseFlags(Deno.args, {
  requests: "100000",
  "sample-every": "0",
  warmup: "2000",
  connections: "50",
  runtime: "both",
  variants: "plugin,bare",
  plugin: "auto",
  build: "false",
  "disconnect-after-ms": "5",
  pipeline: "5",
  "hang-ms": "50",
  "slow-ms": "20",
  "settle-ms": "300",
  "max-seconds": "900",
  help: "false",
});
if (flags.help === "true") {
  console.log(`deno task bench:soak [--requests 100000] [--sample-every N] [--warmup 2000]
  [--connections 50] [--runtime deno|node|both] [--variants plugin,bare] [--plugin auto|standin]
  [--build] [--disconnect-after-ms 5] [--pipeline 5] [--hang-ms 50] [--slow-ms 20] [--settle-ms 300]
  [--max-seconds 900]`);
  Deno.exit(0);
}
const requests = numberFlag(flags, "requests");
const sampleEvery = Number(flags["sample-every"]) > 0
  ? numberFlag(flags, "sample-every")
  : Math.ceil(requests / 10);
const warmupRequests = Number(flags.warmup);
const connections = numberFlag(flags, "connections");
const disconnectAfterMs = numberFlag(flags, "disconnect-after-ms");
const pipelineDepth = numberFlag(flags, "pipeline");
const hangMs = numberFlag(flags, "hang-ms");
const settleMs = numberFlag(flags, "settle-ms");
const maxSeconds = numberFlag(flags, "max-seconds");
const variants = (flags.variants ?? "").split(",").map((v) => v.trim()) as Variant[];
for (const v of variants) {
  if (v !== "plugin" && v !== "bare") throw new TypeError(`--variants: unknown variant ${v}`);
}
if (disconnectAfterMs >= hangMs) {
  throw new RangeError("--disconnect-after-ms must be shorter than --hang-ms");
}

let standin = flags.plugin === "standin";
if (!standin) {
  const reason = await probePlugin();
  if (reason !== null) {
    console.error(`note: ${reason}; measuring the STAND-IN plugin`);
    standin = true;
  }
}
const runtimes: Runtime[] = [];
if (flags.runtime !== "node") {
  const deno = denoRuntime(["--expose-gc"]);
  if (standin) deno.pluginSpec = "standin";
  runtimes.push(deno);
}
if (flags.runtime !== "deno") {
  const node = await nodeRuntime({
    build: flags.build === "true",
    standin,
    nodeFlags: ["--expose-gc"],
  });
  if (typeof node === "string") console.error(`skipping node: ${node}`);
  else runtimes.push(node);
}

async function getStats(port: number): Promise<Stats> {
  const conn = new Http1Connection(port);
  try {
    const response = await conn.get("/__stats", 30_000);
    if (response.status !== 200) throw new Error(`/__stats answered ${response.status}`);
    return JSON.parse(response.body) as Stats;
  } finally {
    conn.close();
  }
}

const sleepMs = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes `pipelineDepth` pipelined GETs of `path` on a new socket, then drops it after `afterMs`. */
async function pipelineThenDrop(port: number, path: string, afterMs: number): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
    await conn.write(new TextEncoder().encode(request.repeat(pipelineDepth)));
    await sleepMs(afterMs);
  } finally {
    conn.close();
  }
}

/** An HTTP/2 session to the server, opened again once the server closed it. */
class H2Link {
  #session: http2.ClientHttp2Session | undefined;
  opened = 0;
  constructor(readonly port: number) {}
  get session(): http2.ClientHttp2Session {
    const current = this.#session;
    if (current !== undefined && !current.closed && !current.destroyed) return current;
    // Node's server ends a session that resets many streams (its rapid-reset guard): reconnect.
    // (The session shuts itself down on GOAWAY; destroying it then crashes Deno's nghttp2.)
    const session = http2.connect(`http://127.0.0.1:${this.port}`);
    session.on("error", () => {});
    this.opened++;
    return this.#session = session;
  }
  close(): void {
    this.#session?.close();
  }
}

/** Opens an HTTP/2 stream for `path` and resets it (NGHTTP2_CANCEL) after `afterMs`. */
async function h2Reset(link: H2Link, path: string, afterMs: number): Promise<void> {
  const stream = link.session.request({ ":path": path });
  stream.on("error", () => {});
  stream.resume();
  await sleepMs(afterMs);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 1000); // a session the server already ended
    stream.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_CANCEL);
  });
}

/** Sends requests [from, to) over `pool`, each connection one request at a time. */
async function drive(
  pool: Http1Connection[],
  links: { port: number; h2: H2Link },
  from: number,
  to: number,
  deadline: number,
  onUnexpected: (message: string) => void,
): Promise<void> {
  let next = from;
  await Promise.all(pool.map(async (conn) => {
    while (next < to) {
      if (Date.now() > deadline) throw new Error(`--max-seconds ${maxSeconds} exceeded`);
      const index = next++;
      const kind = kindOf(index);
      try {
        if (kind === "disconnect") {
          await conn.getThenDisconnect(PATHS[kind], disconnectAfterMs);
        } else if (kind === "pipeline") {
          await pipelineThenDrop(links.port, `${PATHS[kind]}?pipelined=1`, disconnectAfterMs);
        } else if (kind === "h2reset") {
          const path = index % 40 === 13 ? `${PATHS[kind]}?early=1` : PATHS[kind];
          await h2Reset(links.h2, path, disconnectAfterMs);
        } else {
          // A distinct timeout per request: a fractional part no other request shares.
          const path = kind === "deadline"
            ? `${PATHS[kind]}?ms=${60_000 + (index + 100_000) * 0.001}`
            : PATHS[kind];
          const response = await conn.get(path, 10_000);
          if (response.status !== EXPECTED[kind]) {
            onUnexpected(`${PATHS[kind]} answered ${response.status}`);
          }
        }
      } catch (error) {
        onUnexpected(`${PATHS[kind]}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }));
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, settleMs));

async function soak(runtime: Runtime, variant: Variant): Promise<RunResult> {
  const label = `${runtime.name}/${variant}`;
  const server = new ServerProcess(label, runtime, `${ROOT}bench/_servers/soak_server.mjs`, [
    "--variant",
    variant,
    "--hang-ms",
    String(hangMs),
    "--slow-ms",
    flags["slow-ms"] ?? "20",
    "--max-seconds",
    String(maxSeconds + 60),
  ]);
  const pool: Http1Connection[] = [];
  let h2: H2Link | undefined;
  try {
    const ready = await server.ready;
    if (ready.gc !== true) {
      console.error(`warning: ${label} runs without gc(); heap figures are noisy`);
    }
    const port = Number(ready.port);
    const points: SamplePoint[] = [];
    const failures: string[] = [];
    let unexpected = 0;
    const onUnexpected = (message: string): void => {
      unexpected++;
      if (failures.length < 5) failures.push(message);
    };
    for (let i = 0; i < connections; i++) pool.push(new Http1Connection(port));
    h2 = new H2Link(Number(ready.h2port));
    const links = { port, h2 };
    const started = Date.now();
    const deadline = started + maxSeconds * 1000;

    points.push({ label: "fresh", requests: 0, stats: await getStats(port) });
    if (warmupRequests > 0) {
      await drive(pool, links, -warmupRequests, 0, deadline, onUnexpected);
      await settle();
    }
    points.push({ label: "start", requests: 0, stats: await getStats(port) });
    for (let done = 0; done < requests;) {
      const to = Math.min(requests, done + sampleEvery);
      await drive(pool, links, done, to, deadline, onUnexpected);
      done = to;
      await settle();
      points.push({ label: "", requests: done, stats: await getStats(port) });
      const last = points.at(-1)?.stats;
      console.error(
        `${label}: ${int(done)} requests, heap ${((last?.heapUsed ?? 0) / MB).toFixed(2)} MB, ` +
          `live children ${last?.childCount ?? "n/a"}`,
      );
    }
    return {
      runtime,
      variant,
      pluginSource: String(ready.pluginSource),
      points,
      seconds: (Date.now() - started) / 1000,
      unexpected,
      failures,
      connectionsOpened: pool.reduce((n, c) => n + c.opened, 0),
    };
  } finally {
    for (const conn of pool) conn.close();
    h2?.close();
    await server.close();
  }
}

const results: RunResult[] = [];
for (const runtime of runtimes) {
  for (const variant of variants) results.push(await soak(runtime, variant));
}

// Report.
console.log(
  `\n### Soak: ${int(requests)} requests after ${int(warmupRequests)} warm-up, ` +
    `${connections} keep-alive sockets\n`,
);
for (const line of await machineInfo(runtimes)) console.log(`- ${line}`);
console.log(
  `- mix: 10% disconnect ${disconnectAfterMs} ms into a ${hangMs} ms task, 5% bursts of ` +
    `${pipelineDepth} pipelined ${hangMs} ms requests on a socket dropped after ` +
    `${disconnectAfterMs} ms, 5% HTTP/2 streams reset after ${disconnectAfterMs} ms (half during ` +
    `a 10 ms onRequest hook before the plugin), 10% a task with a timeout no other request ` +
    `uses, 10% slow (${flags["slow-ms"]} ms task), 10% failing task (500), 25% quick task, ` +
    `25% no task`,
);
console.log(`- samples after ${settleMs} ms of quiet and gc(); "start" is after the warm-up`);
console.log(
  `- plugin: ${
    standin
      ? "STAND-IN (bench/_servers/standin_plugin.mjs), not the real plugin"
      : "fastifyGoGoScope"
  }\n`,
);
for (const result of results) {
  const start = result.points.find((p) => p.label === "start")?.stats.heapUsed ?? NaN;
  console.log(
    `#### ${result.runtime.name}, ${
      result.variant === "bare" ? "bare Fastify" : "with the plugin"
    }` +
      (result.variant === "plugin" && result.pluginSource.startsWith("stand-in")
        ? ` [${result.pluginSource}]`
        : "") +
      ` (${result.seconds.toFixed(0)} s, ${int(result.connectionsOpened)} sockets opened)\n`,
  );
  console.log(table(
    [
      "requests",
      "heap after GC (MB)",
      "vs start (MB)",
      "live request scopes",
      "disconnected handlers: cancelled / ran to the end",
    ],
    result.points.map((p) => [
      p.label === "" ? int(p.requests) : p.label,
      (p.stats.heapUsed / MB).toFixed(2),
      p.label === "fresh" ? "–" : ((p.stats.heapUsed - start) / MB).toFixed(2),
      p.stats.childCount === null ? "n/a" : String(p.stats.childCount),
      `${int(p.stats.hangCancelled)} / ${int(p.stats.hangCompleted)}`,
    ]),
  ));
  const end = result.points.at(-1)?.stats;
  const growth = (end?.heapUsed ?? NaN) - start;
  const heapOk = growth <= TARGET_HEAP_GROWTH;
  const childrenOk = end?.childCount === 0;
  const verdict = result.variant === "bare"
    ? `heap ${heapOk ? "within" : "NOT within"} 2 MB (reference run, no scopes)`
    : `${heapOk && childrenOk ? "PASS" : "FAIL"}: heap ${growth >= 0 ? "+" : ""}${
      (growth / MB).toFixed(2)
    } MB ` +
      `(target ≤ +2 MB; ${(growth / requests).toFixed(1)} bytes/request), ` +
      `live children at the end ${end?.childCount ?? "n/a"} (target 0)`;
  console.log(`\nverdict: ${verdict}`);
  if (result.variant === "plugin" && end !== undefined) {
    console.log(
      `disconnects: ${int(end.hangCancelled)} of ${
        int(end.hangStarted)
      } handlers were cancelled; ` +
        `${int(end.hangCompleted)} ran to their end (disconnect not seen while the handler ran)` +
        (end.completedBy ? `; by protocol: ${JSON.stringify(end.completedBy)}` : ""),
    );
  }
  if (result.unexpected > 0) {
    console.log(
      `unexpected responses: ${result.unexpected} (first: ${result.failures.join("; ")})`,
    );
  }
  console.log("");
}
