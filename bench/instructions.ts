/**
 * Work per request, counted in machine instructions: bare Fastify vs. + fastifyGoGoScope vs. the
 * plugin plus one awaited `request.scope.task()` per request, each server run under
 * `valgrind --tool=callgrind`. Instruction counts do not depend on what else the machine is doing,
 * so this measures the plugin's cost where req/s on a shared 2-vCPU machine cannot (it moves by
 * ±15% from one process to the next). It does not see real cache misses (`--cache-sim`
 * simulates them) or scheduling, which is why `bench:http` measures throughput as well.
 *
 * Each server runs with V8's predictable mode (every compilation and collection on the main thread)
 * and is warmed up uninstrumented, over one keep-alive connection that stays open into the counted
 * window, in rounds each followed by the commands that open the window; then two young-generation
 * collections, instrumentation switched on and the counters zeroed, a fixed number of requests
 * served on the same connections, and the counters dumped. Instructions per request = the main
 * thread's instructions in that window / requests served. Every process reports what V8 did in
 * its window (Node: collections, compilations, deoptimisations): a settled server compiles nothing
 * there (BENCHMARKS.md, 2026-12-07).
 *
 * ```sh
 * deno task bench:instr                            # Node, 20,000 warm-up + 5,000 counted requests
 * deno task bench:instr --runtime deno             # Deno: 20,000 counted by default (see --requests)
 * deno task bench:instr --runtime both --repeat 2  # Deno too, each variant twice
 * ```
 *
 * Needs valgrind (Debian: `apt-get install valgrind`).
 *
 * @module
 */
import { Http1Connection } from "./_load/http1_client.ts";
import {
  denoRuntime,
  int,
  LABELS,
  machineInfo,
  median,
  nodeRuntime,
  numberFlag,
  parseFlags,
  parseVariants,
  peerRows,
  ROOT,
  run,
  type Runtime,
  type RuntimeName,
  scriptOf,
  ServerProcess,
  table,
  usesPlugin,
  type Variant,
  weightOf,
} from "./_lib.ts";

const flags = parseFlags(Deno.args, {
  runtime: "node",
  variants: "bare,plugin,task",
  // Uninstrumented warm-up requests: 20,000 on Deno and on Node up to 22; 80,000 on Node 24, whose
  // V8 still compiled two or three functions inside the window after 20,000 (BENCHMARKS.md,
  // 2026-12-07).
  warmup: "",
  // Counted requests: 5,000 on Node; 20,000 on Deno, where the young-generation collections run
  // on the counted thread and cost millions of instructions each. A window holds a whole number of
  // them, so a short window's count depends on where the collections fall; a ten times longer
  // window makes one collection more or fewer ten times smaller a share (BENCHMARKS.md).
  requests: "",
  // One connection: one request in flight at every moment. With more, how many requests are in
  // flight when a young-generation collection runs depends on how the client and the server are
  // scheduled, and so does what the collection copies: on Deno, bare and control then differed
  // several times more than with one connection (BENCHMARKS.md, 2026-12-07).
  connections: "1",
  // The load client. `keep`: our own keep-alive client, whose connections stay open from the
  // warm-up through the counted window, so the window opens and closes no connection. autocannon
  // opens new connections for every run and closes them at its end, and a connection's end
  // deoptimises a dozen of Node's stream and http functions, which are then optimised again
  // inside the next window, at a moment that depends on the compiler threads (BENCHMARKS.md,
  // 2026-12-07).
  client: "keep",
  // The warm-up is sent in this many rounds, each followed by the commands that open the window.
  "warmup-rounds": "10",
  // `minor`: two young-generation collections (`gc({ type: "minor" })`, exposed by the runtime
  // flags below) before the window, so that every process of a server starts counting with an
  // empty young generation and its collections fall at the same requests. Not a full collection:
  // a forced full collection flushes the bytecode of every function not on the stack, and
  // everything would be compiled again inside the window. `none`: no collection.
  gc: "minor",
  repeat: "1",
  build: "false",
  "cache-sim": "false",
  script: "",
  plugin: "",
  "any-variant": "false",
  // Deno's V8 flags under callgrind. `--predictable` runs the garbage collector and the compilers
  // on the main thread, synchronously, so the count no longer depends on how threads were
  // scheduled; `--predictable-gc-schedule` fixes the heap's growth and the young generation's
  // size, which V8 otherwise adapts to the heap's history (BENCHMARKS.md, 2026-12-02).
  // `--no-memory-reducer`: no full collection started by the memory reducer, whose timers count
  // wall-clock time (a server under callgrind runs many times slower than without it), so that
  // full collections fall where allocation puts them, at the same request in every process. With
  // the reducer, two processes of one variant with the plugin differed by up to 2%; without it they
  // agree within 0.1% (BENCHMARKS.md, 2026-12-08).
  // `none` for V8's defaults.
  "v8-flags": "--predictable,--predictable-gc-schedule,--no-memory-reducer",
  // Node's flags (comma-separated), `none` for none: V8's flags as for Deno (BENCHMARKS.md,
  // 2026-12-07).
  "node-flags": "--predictable,--predictable-gc-schedule",
  jobs: "1",
  // Which Node: the machine's (empty), or a major (20, 22, 24) run from its own binary, fetched
  // with npx. Node 20's ESM loader makes bare Fastify dearer once a process has loaded some ten
  // ES modules, the plugin's among them; Node 22 and 24 do not (BENCHMARKS.md, 2026-12-07).
  node: "",
  // Seconds of an idle window after the counted one (instrumentation on, no request): the work the
  // main thread does per second with nothing to serve. 0: none.
  idle: "0",
  // Milliseconds each connection waits after a response before it sends its next request, in the
  // counted window. Without a pause, whether the next request is already there when the server
  // has finished with the last one depends on how fast the client and the server run at that
  // moment, and a server that goes idle between two requests does more work per request than one
  // that finds the next request waiting: on Deno, processes counted at the same moment agreed
  // closely while runs minutes apart did not. With a pause the server always goes idle between
  // two requests (BENCHMARKS.md, 2026-12-07, night).
  pace: "5",
  help: "false",
});
const cacheSim = flags["cache-sim"] === "true";
if (flags.help === "true") {
  console.log(
    "deno task bench:instr [--runtime node|deno|both] [--variants bare,plugin,task[,control,scope,await,plugin-await,floor,listener]]\n" +
      "  (--variants also takes peers groups: retry,retry1,fanout,breaker,stream, or peers for all)\n" +
      "  [--warmup 20000 (Deno, Node 20 and 22), 80000 (Node 24)] [--requests 5000 (Node), 20000 (Deno)] [--connections 1] [--repeat 1] [--build]\n" +
      "  [--cache-sim]   also simulate the caches: first- and last-level misses per request\n" +
      "  [--jobs 1]      servers counted at a time (each on its own; valgrind makes the server the bottleneck)\n" +
      "  [--v8-flags --predictable,--predictable-gc-schedule,--no-memory-reducer]   Deno's V8 flags (none: V8's defaults)\n" +
      "  [--node-flags --predictable,--predictable-gc-schedule] Node's flags (none: none)\n" +
      "  [--node 20|22|24]   that Node release's own binary (default: the machine's node)\n" +
      "  [--client keep|autocannon]   keep: connections stay open from warm-up to the counted window\n" +
      "  [--gc minor|none]   minor: young-generation collections before the window (needs gc())\n" +
      "  [--warmup-rounds 10]   the warm-up in rounds, each followed by the window's commands\n" +
      "  [--pace 5]      ms each connection waits after a response in the counted window (0: none)\n" +
      "  [--idle 0]      seconds of an idle window after the counted one: instructions per idle second\n" +
      "  [--plugin path] the plugin module to load instead of mod.ts / npm/esm/mod.js\n" +
      "  [--script path] [--any-variant]   another server script, with variants of its own",
  );
  Deno.exit(0);
}
const warmupFlag = flags.warmup === "" ? undefined : numberFlag(flags, "warmup");
const warmupOf = (runtime: Runtime): number =>
  warmupFlag ?? (runtime.name === "node" && nodeMajor(runtime) >= 24 ? 80_000 : 20_000);
/** The major release of a Node runtime, from its `--version` (`v24.11.1`). */
function nodeMajor(runtime: Runtime): number {
  return Number(/v(\d+)\./.exec(runtime.version)?.[1] ?? 0);
}
const pace = Number(flags.pace);
if (!(pace >= 0)) throw new RangeError(`--pace must be 0 or more ms, received ${flags.pace}`);
const idleSeconds = Number(flags.idle);
if (!(idleSeconds >= 0)) {
  throw new RangeError(`--idle must be 0 or more seconds, received ${flags.idle}`);
}
const requestsFlag = flags.requests === "" ? undefined : numberFlag(flags, "requests");
const countedOn = (runtime: RuntimeName): number =>
  requestsFlag ?? (runtime === "deno" ? 20_000 : 5_000);
const connections = numberFlag(flags, "connections");
const repeat = numberFlag(flags, "repeat");
const jobs = numberFlag(flags, "jobs");
if (!["minor", "none"].includes(flags.gc ?? "")) {
  throw new TypeError(`--gc must be minor or none, received ${flags.gc}`);
}
const gcAtMark = flags.gc === "minor";
const warmupRounds = numberFlag(flags, "warmup-rounds");
if (!["keep", "autocannon"].includes(flags.client ?? "")) {
  throw new TypeError(`--client must be keep or autocannon, received ${flags.client}`);
}
const client = flags.client as "keep" | "autocannon";
const variants: Variant[] = parseVariants(flags.variants ?? "", flags["any-variant"] === "true");
if (!["deno", "node", "both"].includes(flags.runtime ?? "")) {
  throw new TypeError(`--runtime must be deno, node or both, received ${flags.runtime}`);
}
if ((await run("valgrind", ["--version"]).catch(() => ({ code: 1 }))).code !== 0) {
  console.error("valgrind is not installed (Debian: apt-get install valgrind)");
  Deno.exit(1);
}

const outDir = `${ROOT}.tmp/callgrind`;
await Deno.mkdir(outDir, { recursive: true });

/** Wraps a runtime so that its servers run under callgrind, uninstrumented until switched on. */
function underCallgrind(runtime: Runtime, label: string): Runtime {
  return {
    ...runtime,
    command: "valgrind",
    prefix: [
      "--tool=callgrind",
      "--instr-atstart=no",
      // JIT-compiled code is written to anonymous memory: valgrind must notice it changing.
      "--smc-check=all-non-file",
      "--quiet",
      // One count per thread: the main thread runs the JavaScript; the others compile, collect
      // garbage and (Deno) poll for I/O.
      "--separate-threads=yes",
      ...(cacheSim ? ["--cache-sim=yes"] : []),
      `--callgrind-out-file=${outDir}/${label}.%p`,
      runtime.command,
      ...runtime.prefix,
    ],
  };
}

/**
 * Sends `amount` requests over the pool's keep-alive connections, each connection sending its next
 * request when its response has arrived; non-2xx responses fail the run only when `strict`.
 */
async function keepLoad(
  pool: Http1Connection[],
  amount: number,
  strict: boolean,
  pause = 0,
): Promise<void> {
  let sent = 0;
  let failed = 0;
  let reset = 0;
  await Promise.all(pool.map(async (connection) => {
    while (sent < amount) {
      sent++;
      try {
        // Under valgrind, on a busy machine, the first requests wait minutes for the JIT.
        const { status } = await connection.get("/", 900_000);
        if (status < 200 || status > 299) failed++;
        if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
      } catch (error) {
        // A cold server under valgrind can be slower than Node's headersTimeout and reset the
        // connection: the request is sent again on a new one (the warm-up only).
        if (strict) throw error;
        reset++;
        sent--;
        if (reset > 10 * pool.length) throw error;
      }
    }
  }));
  if (strict && failed > 0) throw new Error(`load: ${failed} non-2xx responses`);
  if (reset > 0) console.error(`load: ${reset} connection(s) reset during the warm-up, reopened`);
}

/** Sends `amount` requests with autocannon; errors fail the run only when `strict`. */
async function load(port: number, amount: number, strict: boolean): Promise<void> {
  const result = await run("node", [
    `${ROOT}bench/_load/autocannon_run.mjs`,
    "--url",
    `http://127.0.0.1:${port}/`,
    "--connections",
    String(connections),
    "--amount",
    String(amount),
    "--duration",
    "3600",
    // Under valgrind the first requests wait for the JIT: be patient.
    "--timeout",
    "120",
  ], 3_600_000);
  if (result.code !== 0) throw new Error(`autocannon failed (${result.code}): ${result.stderr}`);
  const parsed = JSON.parse(result.stdout.split("\n").at(-1) ?? "") as {
    errors: number;
    non2xx: number;
  };
  if (strict && parsed.errors + parsed.non2xx > 0) {
    throw new Error(`load: ${parsed.errors} errors, ${parsed.non2xx} non-2xx responses`);
  }
}

async function callgrindControl(pid: number, ...args: string[]): Promise<void> {
  const result = await run("callgrind_control", [...args, String(pid)], 300_000);
  if (result.code !== 0) {
    throw new Error(`callgrind_control ${args.join(" ")} ${pid}: ${result.stderr}`);
  }
}

/** Event name → count, from one callgrind dump file. */
async function readTotals(file: string): Promise<Record<string, number>> {
  const text = await Deno.readTextFile(file);
  const events = /^events:\s*(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  const values = /^(?:totals|summary):\s*(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  const out: Record<string, number> = {};
  events.forEach((name, i) => {
    out[name] = Number(values[i] ?? 0);
  });
  return out;
}

/**
 * The event totals of the first dump of `pid` (one file per thread, `<label>.<pid>.1-<thread>`):
 * `Ir` (instructions) and, with `--cache-sim`, the cache misses (`D1mr`, `D1mw`, `I1mr`, `DLmr`,
 * `DLmw`, `ILmr`), for the main thread (thread 1) and for all threads together.
 */
async function totals(
  pid: number,
  label: string,
  dump = 1,
): Promise<
  { main: Record<string, number>; all: Record<string, number>; threads: Array<[string, number]> }
> {
  const prefix = `${label}.${pid}.${dump}-`;
  let main: Record<string, number> | undefined;
  const all: Record<string, number> = {};
  const threads: Array<[string, number]> = [];
  for (const entry of [...Deno.readDirSync(outDir)].sort((a, b) => a.name < b.name ? -1 : 1)) {
    if (!entry.name.startsWith(prefix)) continue;
    const counted = await readTotals(`${outDir}/${entry.name}`);
    if ((counted.Ir ?? 0) > 0) threads.push([entry.name.slice(prefix.length), counted.Ir ?? 0]);
    if (entry.name === `${prefix}01`) main = counted;
    for (const [name, value] of Object.entries(counted)) all[name] = (all[name] ?? 0) + value;
  }
  if (main === undefined || !(main.Ir! > 0)) {
    throw new Error(`no callgrind dump of the main thread for ${label} (pid ${pid})`);
  }
  return { main, all, threads };
}

/**
 * What V8 did on the main thread during the window, from the call counts in its callgrind dump:
 * young- and old-generation collections, optimising compilations, deoptimisations and lazy
 * compilations of functions never run before. A settled server compiles and deoptimises nothing.
 */
const WINDOW_EVENTS: Record<string, RegExp> = {
  scavenges: /^v8::internal::ScavengerCollector::CollectGarbage\(/,
  fullGcs: /^v8::internal::MarkCompactCollector::CollectGarbage\(/,
  optimized:
    /^v8::internal::Compiler::CompileOptimized\(|^v8::internal::Compiler::CompileTurbofan|^v8::internal::OptimizedCompilationJob::ExecuteJob\(/,
  deopts: /^v8::internal::Deoptimizer::New\(/,
  compiled:
    /^v8::internal::Compiler::Compile\(v8::internal::Isolate\*, v8::internal::Handle<v8::internal::JSFunction>/,
};

/** Call counts of the functions of WINDOW_EVENTS in one callgrind dump. */
async function windowEvents(file: string): Promise<Record<string, number>> {
  const names = new Map<string, string>();
  const counts: Record<string, number> = Object.fromEntries(
    Object.keys(WINDOW_EVENTS).map((k) => [k, 0]),
  );
  let callee: string | undefined;
  for (const line of (await Deno.readTextFile(file)).split("\n")) {
    const fn = /^c?fn=\((\d+)\)(?: (.*))?$/.exec(line);
    if (fn !== null) {
      if (fn[2] !== undefined) names.set(fn[1]!, fn[2]);
      if (line.startsWith("cfn=")) callee = fn[1];
    } else if (line.startsWith("calls=") && callee !== undefined) {
      const name = names.get(callee) ?? "";
      for (const [event, pattern] of Object.entries(WINDOW_EVENTS)) {
        if (pattern.test(name)) counts[event]! += Number(line.slice(6).split(" ")[0]);
      }
    }
  }
  return counts;
}

const runtimes: Runtime[] = [];
const v8Flags = (flags["v8-flags"] ?? "").split(",").map((f) => f.trim())
  .filter((f) => f !== "" && f !== "none");
if (gcAtMark) v8Flags.push("--expose-gc");
if (flags.runtime !== "node") runtimes.push(denoRuntime(v8Flags));
if (flags.runtime !== "deno") {
  const nodeFlags = (flags["node-flags"] ?? "").split(",").map((f) => f.trim())
    .filter((f) => f !== "" && f !== "none");
  if (gcAtMark) nodeFlags.push("--expose-gc");
  const node = await nodeRuntime({
    build: flags.build === "true",
    standin: false,
    nodeFlags,
    major: flags.node ?? "",
  });
  if (typeof node === "string") console.error(`skipping node: ${node}`);
  else runtimes.push(node);
}
if (flags.plugin !== "") {
  // Another build of the plugin (a module path), to compare two versions instruction by instruction.
  for (const runtime of runtimes) {
    runtime.pluginSpec = new URL(flags.plugin!, `file://${ROOT}`).href;
  }
}

/** One counted process, per request: instructions (main thread, all threads) and cache misses. */
interface Run {
  main: number;
  all: number;
  d1: number;
  i1: number;
  ll: number;
}
const runs = new Map<string, Run[]>();

/** Starts one server under callgrind, warms it up, counts `requests` requests, closes it. */
async function measure(runtime: Runtime, variant: Variant): Promise<void> {
  const label = `${runtime.name}-${variant}`;
  // Starting a runtime under valgrind takes a while, longer on a busy machine.
  const script = `${ROOT}${flags.script === "" ? scriptOf(variant) : flags.script}`;
  const server = new ServerProcess(label, underCallgrind(runtime, label), script, [
    "--variant",
    variant,
  ], 600_000);
  try {
    const ready = await server.ready;
    const port = Number(ready.port);
    const pid = Number(ready.pid);
    if (usesPlugin(variant)) {
      if (String(ready.pluginSource).startsWith("stand-in")) {
        throw new Error(`${label}: the real plugin failed to load: ${ready.pluginSource}`);
      }
    }
    // A heavier request (a stream of 100 events) gets proportionally fewer requests.
    const weight = weightOf(variant);
    const warmup = warmupOf(runtime);
    const warmupHere = Math.ceil(warmup / weight);
    const countedHere = Math.ceil(countedOn(runtime.name) / weight);
    console.error(`${label}: pid ${pid}, warming up with ${warmupHere} requests ...`);
    const pool = Array.from({ length: connections }, () => new Http1Connection(port));
    // The window's wall time: work that runs per second (timers, the Date header's cache) is
    // counted once per second, so a slower window (a busier machine) counts more of it.
    let started = 0;
    let seconds = 0;
    try {
      // The warm-up in rounds, each followed by the commands that open the window: the control
      // channel (stdin, stdout) runs through the same stream functions as the HTTP sockets, and
      // the first commands after they were optimised for sockets alone deoptimise them. Repeated
      // during the warm-up, the commands leave code that expects them, and the window (which
      // holds no command: `mark` comes before it, `report` after it) finds it settled.
      const rounds = client === "keep" ? warmupRounds : 1;
      for (let round = 0; round < rounds; round++) {
        const amount = Math.ceil(warmupHere / rounds);
        if (client === "keep") await keepLoad(pool, amount, false);
        else await load(port, amount, false);
        if (gcAtMark && (await server.command("gc", 300_000)).collected !== true) {
          throw new Error(`${label}: gc() is not exposed`);
        }
        await server.command("mark", 300_000);
      }
      await callgrindControl(pid, "--instr=on");
      await callgrindControl(pid, "--zero");
      started = performance.now();
      if (client === "keep") await keepLoad(pool, countedHere, true, pace);
      else await load(port, countedHere, true);
      seconds = (performance.now() - started) / 1000;
      await callgrindControl(pid, "--dump");
      if (idleSeconds > 0) {
        await callgrindControl(pid, "--zero");
        await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
        await callgrindControl(pid, "--dump");
      }
    } finally {
      for (const connection of pool) connection.close();
    }
    const report = await server.command("report", 300_000);
    const served = Number(report.served);
    const { main, all, threads } = await totals(pid, label);
    const events = await windowEvents(`${outDir}/${label}.${pid}.1-01`);
    const idle = idleSeconds > 0 ? (await totals(pid, label, 2)).main.Ir ?? 0 : 0;
    if (idleSeconds > 0) {
      console.error(
        `${label}: idle: ${int(idle / idleSeconds)} main-thread instructions per second; ` +
          `the counted window took ${seconds.toFixed(1)} s`,
      );
    }
    const perRequest = (event: number | undefined) => (event ?? 0) / served;
    const counted: Run = {
      main: perRequest(main.Ir),
      all: perRequest(all.Ir),
      d1: perRequest(main.D1mr) + perRequest(main.D1mw),
      i1: perRequest(main.I1mr),
      ll: perRequest(main.DLmr) + perRequest(main.DLmw) + perRequest(main.ILmr),
    };
    runs.set(label, [...(runs.get(label) ?? []), counted]);
    const perThread = threads.map(([name, ir]) => `${name}:${int(ir / served)}`).join(" ");
    console.error(
      `${label}: ${int(counted.main)} instructions per request on the main thread, ` +
        `${int(counted.all)} in all threads (${served} served; per thread ${perThread}; ` +
        `in the window: ${Object.entries(events).map(([k, v]) => `${k} ${v}`).join(", ")})`,
    );
    // A compilation costs millions of instructions: one inside the window is thousands per
    // request, and says the warm-up was too short for this runtime (Node 24 needs about 80,000
    // requests where Node 20 settles within 20,000; BENCHMARKS.md, 2026-12-07).
    const unsettled = (events.optimized ?? 0) + (events.deopts ?? 0) + (events.compiled ?? 0);
    if (unsettled > 0) {
      console.error(
        `${label}: WARNING: V8 compiled or deoptimised ${unsettled} time(s) inside the window; ` +
          `the count includes that work: warm up longer (--warmup ${warmup * 4})`,
      );
    }
    await Deno.writeTextFile(
      `${outDir}/runs.jsonl`,
      JSON.stringify({
        at: new Date().toISOString(),
        runtime: runtime.name,
        v8Flags: runtime.name === "deno" ? v8Flags : runtime.prefix,
        script: flags.script,
        plugin: flags.plugin,
        client,
        gcAtMark,
        variant,
        seconds,
        idlePerSecond: idleSeconds > 0 ? idle / idleSeconds : undefined,
        pid,
        warmup,
        requests: countedOn(runtime.name),
        connections,
        served,
        ...counted,
        events,
        threads: Object.fromEntries(threads.map(([name, ir]) => [name, ir / served])),
      }) + "\n",
      { append: true },
    );
  } finally {
    await server.close();
  }
}

// Interleaved: every round runs each variant once, in order; `--jobs` servers run at a time (each
// is counted on its own, and under valgrind each server, not the client, is the bottleneck).
const queue: Array<[Runtime, Variant]> = [];
for (let r = 1; r <= repeat; r++) {
  for (const runtime of runtimes) for (const variant of variants) queue.push([runtime, variant]);
}
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      await measure(...next);
    }
  }),
);

const info = await machineInfo(runtimes);
console.log(
  `\n### Instructions per request (callgrind): ` +
    `${
      runtimes.map((r) => `${warmupOf(r)} warm-up + ${countedOn(r.name)} (${r.name})`).join(", ")
    } ` +
    `counted requests, ` +
    `${
      client === "keep" ? "keep-alive client" : "autocannon"
    } -c ${connections}, ${repeat} run(s) per variant\n`,
);
for (const line of info) console.log(`- ${line}`);
console.log("");
const rows: string[][] = [];
for (const runtime of runtimes) {
  const bare = runs.get(`${runtime.name}-bare`);
  const base = bare === undefined ? NaN : median(bare.map((r) => r.main));
  // The reference of the targets: the mean of bare and its control (bare in other processes).
  const control = runs.get(`${runtime.name}-control`);
  const reference = control === undefined ? NaN : (base + median(control.map((r) => r.main))) / 2;
  for (const variant of variants) {
    const list = runs.get(`${runtime.name}-${variant}`);
    if (list === undefined) continue;
    const mains = list.map((r) => r.main);
    const m = median(mains);
    const cacheCells = cacheSim
      ? [
        int(median(list.map((r) => r.d1))),
        int(median(list.map((r) => r.i1))),
        int(median(list.map((r) => r.ll))),
      ]
      : [];
    rows.push([
      runtime.name,
      LABELS[variant] ?? variant,
      ...cacheCells,
      int(m),
      list.length > 1
        ? `${int(Math.min(...mains))}–${int(Math.max(...mains))} (${list.length})`
        : "–",
      list.length > 1
        ? `${((Math.max(...mains) - Math.min(...mains)) / m * 100).toFixed(1)}%`
        : "–",
      Number.isNaN(base) ? "–" : (m / base).toFixed(3),
      Number.isNaN(reference) ? "–" : (m / reference).toFixed(3),
      Number.isNaN(base) || variant === "bare" ? "–" : `${int(m - base)}`,
      Number.isNaN(base) ? "–" : (base / m).toFixed(3),
      int(median(list.map((r) => r.all))),
    ]);
  }
}
console.log(table(
  [
    "runtime",
    "variant",
    ...(cacheSim ? ["D1 misses/request", "I1 misses/request", "last-level misses/request"] : []),
    "main-thread instructions/request",
    "min–max",
    "spread",
    "ratio to bare",
    "ratio to mean(bare, control)",
    "over bare",
    "throughput bound (bare/variant)",
    "all threads/request",
  ],
  rows,
));

// Our forms of the documented handlers beside their peers (bench/_servers/peers_server.mjs).
for (const runtime of runtimes) {
  const rows = peerRows((v) => {
    const list = runs.get(`${runtime.name}-${v}`);
    return list === undefined ? undefined : median(list.map((r) => r.main));
  }, int);
  if (rows.length === 0) continue;
  console.log(`\n#### ${runtime.name}: against the peers (main-thread instructions per request)\n`);
  console.log(table(
    ["handler", "variant", "main-thread instructions/request", "ratio to the cheapest peer"],
    rows,
  ));
}
