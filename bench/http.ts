/**
 * HTTP throughput benchmark: bare Fastify vs. Fastify + fastifyGoGoScope vs. the plugin plus one
 * awaited `request.scope.task()` per request, under Deno (TypeScript sources) and Node (the built
 * npm package). Each variant runs in its own server process on 127.0.0.1 port 0; autocannon runs in
 * another process. Rounds are interleaved (bare, plugin, task, bare, ...) so the ratios compare
 * like with like on a noisy machine.
 *
 * ```sh
 * deno task bench:http                                  # -c 100 -d 10, 3 rounds, both runtimes
 * deno task bench:http --duration 3 --rounds 1          # a quick look
 * deno task bench:http --runtime node --build           # rebuild npm/ first, Node only
 * ```
 *
 * @module
 */
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
  scriptOf,
  ServerProcess,
  table,
  usesPlugin,
  type Variant,
} from "./_lib.ts";
import { CpuProfiler } from "./_inspector.ts";
import { probePlugin } from "./_plugin_probe.ts";

interface Sample {
  reqPerSec: number;
  p99: number;
  cpuMicrosPerRequest: number;
  errors: number;
  non2xx: number;
  served: number;
  /** Main-thread GC pause per request, µs (Node only; 0 under Deno). */
  gcMicrosPerRequest: number;
  /** Young-generation size at the end of the window, MB. */
  newSpaceMb: number;
}

interface LoadResult {
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

const USAGE = `deno task bench:http [--duration 10] [--rounds 3] [--connections 100] [--warmup 3]
  [--runtime deno|node|both] [--variants bare,plugin,task[,control,scope,await,plugin-await,floor,listener]]
                 (also peers groups: retry,retry1,fanout,breaker,stream, or peers for all)
  [--plugin auto|standin]
  [--build] [--client node|deno] [--pipelining 1]
  [--rate N]     fixed total request rate (autocannon -R): compares server CPU per request at
                 equal load, independent of how fast each variant could go
  [--fresh]      start new server processes for every round, so that one process's JIT luck
                 (the same server can differ by 15% from one process to the next) averages out
  [--cpu-prof]   record a V8 CPU profile of every server over the measured rounds (through the
                 inspector) into .tmp/cpu-prof/<runtime>-<variant>.cpuprofile; summarise with
                 deno run -A bench/_profile_summary.ts <file> --requests <served>`;

const flags = parseFlags(Deno.args, {
  duration: "10",
  rounds: "3",
  connections: "100",
  warmup: "3",
  runtime: "both",
  variants: "bare,plugin,task",
  plugin: "auto",
  build: "false",
  client: "node",
  pipelining: "1",
  "cpu-prof": "false",
  fresh: "false",
  rate: "0",
  help: "false",
});
if (flags.help === "true") {
  console.log(USAGE);
  Deno.exit(0);
}
const duration = numberFlag(flags, "duration");
const rounds = numberFlag(flags, "rounds");
const connections = numberFlag(flags, "connections");
const warmup = Number(flags.warmup);
const pipelining = numberFlag(flags, "pipelining");
const rate = Number(flags.rate);
const fresh = flags.fresh === "true";
if (fresh && flags["cpu-prof"] === "true") {
  throw new TypeError("--fresh and --cpu-prof do not go together (one profile per process)");
}
if (!(rate >= 0)) throw new RangeError(`--rate must be >= 0, received ${flags.rate}`);
const variants = parseVariants(flags.variants ?? "");
if (!["deno", "node", "both"].includes(flags.runtime ?? "")) {
  throw new TypeError(`--runtime must be deno, node or both, received ${flags.runtime}`);
}
if (!["node", "deno"].includes(flags.client ?? "")) {
  throw new TypeError(`--client must be node or deno, received ${flags.client}`);
}

// Which plugin: the real one once mod.ts exports it, otherwise a clearly labelled stand-in.
let standin = flags.plugin === "standin";
if (!standin) {
  const reason = await probePlugin();
  if (reason !== null) {
    console.error(
      `note: ${reason}; measuring the STAND-IN plugin (bench/_servers/standin_plugin.mjs)`,
    );
    standin = true;
  }
}

const runtimes: Runtime[] = [];
if (flags.runtime !== "node") {
  const deno = denoRuntime([], flags["cpu-prof"] === "true" ? ["--inspect=127.0.0.1:0"] : []);
  if (standin) deno.pluginSpec = "standin";
  runtimes.push(deno);
}
if (flags.runtime !== "deno") {
  const cpuProf = flags["cpu-prof"] === "true";
  const node = await nodeRuntime({
    build: flags.build === "true",
    standin,
    nodeFlags: cpuProf ? ["--inspect=127.0.0.1:0"] : [],
  });
  if (typeof node === "string") console.error(`skipping node: ${node}`);
  else runtimes.push(node);
}
if (runtimes.length === 0) {
  console.error("no runtime to measure");
  Deno.exit(1);
}

const servers = new Map<string, ServerProcess>();
const key = (r: Runtime, v: Variant): string => `${r.name}/${v}`;

async function closeAll(): Promise<void> {
  await Promise.all([...servers.values()].map((s) => s.close()));
  servers.clear();
}
const onSignal = (): void => {
  closeAll().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onSignal);

async function load(port: number, seconds: number): Promise<LoadResult> {
  const runner = `${ROOT}bench/_load/autocannon_run.mjs`;
  const args = [
    "--url",
    `http://127.0.0.1:${port}/`,
    "--connections",
    String(connections),
    "--duration",
    String(seconds),
    "--pipelining",
    String(pipelining),
    "--rate",
    String(rate),
  ];
  const result = flags.client === "node"
    ? await run("node", [runner, ...args], (seconds + 60) * 1000)
    : await run(
      Deno.execPath(),
      ["run", `--config=${ROOT}deno.dev.json`, "-A", runner, ...args],
      (seconds + 60) * 1000,
    );
  if (result.code !== 0) throw new Error(`autocannon failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout.split("\n").at(-1) ?? "") as LoadResult;
}

const samples = new Map<string, Sample[]>();
const sampleRound = new WeakMap<Sample, number>();
const pluginSources = new Set<string>();
const profilers = new Map<string, CpuProfiler>();
const sourceOf = new Map<string, string>();
const ports = new Map<string, number>();

/**
 * Starts one server per variant for each of `which` runtimes, records their ports, and warms
 * them up.
 */
async function startAll(which: readonly Runtime[] = runtimes): Promise<void> {
  for (const runtime of which) {
    for (const variant of variants) {
      servers.set(
        key(runtime, variant),
        new ServerProcess(key(runtime, variant), runtime, `${ROOT}${scriptOf(variant)}`, [
          "--variant",
          variant,
        ]),
      );
    }
  }
  for (const [k, server] of servers) {
    const ready = await server.ready;
    ports.set(k, Number(ready.port));
    if (usesPlugin(String(ready.variant))) {
      pluginSources.add(`${k}: ${String(ready.pluginSource)}`);
    }
    sourceOf.set(k, String(ready.pluginSource));
    if (flags["cpu-prof"] === "true" && k.startsWith("node/")) {
      console.error(
        `${k}: pid ${String(ready.pid)}, profile in .tmp/cpu-prof/CPU.*.${
          String(ready.pid)
        }.*.cpuprofile`,
      );
    }
  }
  if (warmup > 0) {
    console.error(`warming up each server for ${warmup} s ...`);
    for (const port of ports.values()) await load(port, warmup);
  }
}

try {
  await startAll(fresh ? runtimes.slice(0, 1) : runtimes);
  for (const source of pluginSources) console.error(`plugin ${source}`);
  if (flags["cpu-prof"] === "true") {
    for (const [k, server] of servers) {
      const profiler = await CpuProfiler.connect(await server.inspectorUrl);
      await profiler.start();
      profilers.set(k, profiler);
    }
  }
  for (let round = 1; round <= rounds; round++) {
    // Snake order (bare, plugin, task, then task, plugin, bare): a slow spell of the machine
    // that spans a round's end lands on the same variants from both sides, so it shifts the
    // per-round ratios less than a fixed order would.
    const order = round % 2 === 1 ? runtimes : [...runtimes].reverse();
    for (const runtime of order) {
      if (fresh && !(round === 1 && runtime === runtimes[0])) {
        // New processes, and only this runtime's: idle servers of the other runtime stay out of
        // the way of the measured ones.
        await closeAll();
        await startAll([runtime]);
      }
      for (const variant of round % 2 === 1 ? variants : [...variants].reverse()) {
        const k = key(runtime, variant);
        const server = servers.get(k);
        const port = ports.get(k);
        if (server === undefined || port === undefined) continue;
        await server.command("mark");
        const result = await load(port, duration);
        const report = await server.command("report");
        const served = Number(report.served);
        const sample: Sample = {
          reqPerSec: result.reqPerSec,
          p99: result.p99,
          cpuMicrosPerRequest: served > 0 ? Number(report.cpuMicros) / served : NaN,
          errors: result.errors + result.timeouts,
          non2xx: result.non2xx,
          served,
          gcMicrosPerRequest: served > 0 ? Number(report.gcMs ?? 0) * 1000 / served : NaN,
          newSpaceMb: Number(report.newSpaceBytes ?? 0) / 2 ** 20,
        };
        samples.set(k, [...(samples.get(k) ?? []), sample]);
        sampleRound.set(sample, round);
        console.error(
          `round ${round}/${rounds} ${k}: ${int(sample.reqPerSec)} req/s, p99 ${sample.p99} ms, ` +
            `${sample.cpuMicrosPerRequest.toFixed(1)} µs CPU/req, ` +
            `GC ${sample.gcMicrosPerRequest.toFixed(2)} µs/req (${
              String(report.gcCount ?? 0)
            } pauses), new space ${sample.newSpaceMb.toFixed(1)} MB` +
            (sample.errors + sample.non2xx > 0
              ? `, ${sample.errors} errors, ${sample.non2xx} non-2xx`
              : ""),
        );
      }
    }
  }
  if (profilers.size > 0) {
    await Deno.mkdir(`${ROOT}.tmp/cpu-prof`, { recursive: true });
    for (const [k, profiler] of profilers) {
      const file = `${ROOT}.tmp/cpu-prof/${k.replace("/", "-")}.cpuprofile`;
      await Deno.writeTextFile(file, JSON.stringify(await profiler.stop()));
      profiler.close();
      const served = (samples.get(k) ?? []).reduce((n, s) => n + s.served, 0);
      console.error(
        `profile: deno run -A bench/_profile_summary.ts ${
          file.slice(ROOT.length)
        } --requests ${served}`,
      );
    }
  }
} finally {
  for (const profiler of profilers.values()) profiler.close();
  await closeAll();
  Deno.removeSignalListener("SIGINT", onSignal);
}

// Report.
const info = await machineInfo(runtimes);
console.log(
  `\n### HTTP throughput: autocannon -c ${connections} -d ${duration}` +
    (pipelining > 1 ? ` -p ${pipelining}` : "") +
    (rate > 0 ? ` -R ${rate} (fixed rate: compare CPU µs/req, not req/s)` : "") +
    `, ${rounds} interleaved round(s)${
      fresh ? ", new server processes every round" : ""
    }, medians\n`,
);
for (const line of info) console.log(`- ${line}`);
console.log(`- load generator: autocannon 8 under ${flags.client}, in its own process`);
console.log(
  `- plugin: ${
    standin
      ? "STAND-IN (bench/_servers/standin_plugin.mjs), not the real plugin"
      : "fastifyGoGoScope (Deno: mod.ts; Node: npm/esm/mod.js)"
  }\n`,
);
const rows: string[][] = [];
for (const runtime of runtimes) {
  const bare = samples.get(key(runtime, "bare"));
  const bareMedian = bare === undefined ? NaN : median(bare.map((s) => s.reqPerSec));
  for (const variant of variants) {
    const list = samples.get(key(runtime, variant)) ?? [];
    if (list.length === 0) continue;
    const rps = list.map((s) => s.reqPerSec);
    const errors = list.reduce((n, s) => n + s.errors + s.non2xx, 0);
    // Paired: this variant's req/s over bare's in the same round, and the CPU difference.
    const ratios: number[] = [];
    const cpuDeltas: number[] = [];
    for (const sample of list) {
      const base = bare?.find((b) => sampleRound.get(b) === sampleRound.get(sample));
      if (base === undefined) continue;
      ratios.push(sample.reqPerSec / base.reqPerSec);
      cpuDeltas.push(sample.cpuMicrosPerRequest - base.cpuMicrosPerRequest);
    }
    const paired = ratios.length === 0
      ? "–"
      : variant === "bare"
      ? "1.000"
      : `${median(ratios).toFixed(3)} (${Math.min(...ratios).toFixed(2)}–${
        Math.max(...ratios).toFixed(2)
      })`;
    const cpuOver = cpuDeltas.length === 0 || variant === "bare"
      ? "–"
      : `${median(cpuDeltas) >= 0 ? "+" : "−"}${Math.abs(median(cpuDeltas)).toFixed(1)}`;
    rows.push([
      runtime.name,
      LABELS[variant] +
      (!standin && (sourceOf.get(key(runtime, variant)) ?? "").startsWith("stand-in")
        ? " (STAND-IN: the real plugin failed to load)"
        : ""),
      int(median(rps)),
      `${int(Math.min(...rps))}–${int(Math.max(...rps))}`,
      Number.isNaN(bareMedian) ? "–" : (median(rps) / bareMedian).toFixed(3),
      paired,
      `${median(list.map((s) => s.p99))} ms`,
      median(list.map((s) => s.cpuMicrosPerRequest)).toFixed(1),
      cpuOver,
      String(errors),
    ]);
  }
}
console.log(table(
  [
    "runtime",
    "variant",
    "req/s (median)",
    "min–max",
    "ratio of medians",
    "paired ratio (min–max)",
    "p99",
    "server CPU µs/req",
    "CPU over bare",
    "errors",
  ],
  rows,
));

// Our forms of the documented handlers beside their peers (bench/_servers/peers_server.mjs).
for (const runtime of runtimes) {
  const cpu = peerRows((v) => {
    const list = samples.get(key(runtime, v));
    return list === undefined ? undefined : median(list.map((s) => s.cpuMicrosPerRequest));
  }, (x) => x.toFixed(1));
  if (cpu.length === 0) continue;
  const rps = peerRows((v) => {
    const list = samples.get(key(runtime, v));
    return list === undefined ? undefined : median(list.map((s) => s.reqPerSec));
  }, int);
  console.log(`\n#### ${runtime.name}: against the peers\n`);
  console.log(table(
    [
      "handler",
      "variant",
      "server CPU µs/req",
      "CPU ratio to the cheapest peer",
      "req/s",
    ],
    cpu.map((row, i) => [...row, rps[i]?.[2] ?? "–"]),
  ));
}
