/**
 * Helpers shared by the HTTP benchmark (`bench/http.ts`) and the soak test (`bench/soak.ts`):
 * flag parsing, server processes driven over stdin/stdout, runtime discovery, machine facts.
 *
 * @module
 */
import { NODE_RELEASES } from "../scripts/npm/node_releases.ts";
import { parseArgs } from "node:util";

/** The variants of `bench/_servers/hello_server.mjs`: the hello route. */
export type HelloVariant =
  | "bare"
  | "control"
  | "plugin"
  | "scope"
  | "task"
  | "await"
  | "plugin-await"
  | "floor"
  | "listener";

/**
 * The variants of `bench/_servers/peers_server.mjs`: a documented handler in our form (`*-ours`,
 * with the plugin) beside what users would write instead with the libraries they already use.
 */
export type PeerVariant =
  | "retry-ours"
  | "retry-p-retry"
  | "retry-loop"
  | "retry1-ours"
  | "retry1-p-retry"
  | "retry1-loop"
  | "fanout-ours"
  | "fanout-p-limit"
  | "fanout-effection"
  | "breaker-ours"
  | "breaker-opossum"
  | "breaker-cockatiel"
  | "stream-ours"
  | "stream-generator";

/** A server variant measured by `bench:http` and `bench:instr`. */
export type Variant = HelloVariant | PeerVariant;

/** Every variant, in report order. */
export const VARIANTS: readonly Variant[] = [
  "bare",
  "control",
  "plugin",
  "scope",
  "task",
  "await",
  "plugin-await",
  "floor",
  "listener",
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

/** How each variant is named in the reports. */
export const LABELS: Record<Variant, string> = {
  bare: "bare Fastify",
  control: "bare Fastify again (control: the noise floor)",
  plugin: "+ plugin",
  scope: "+ plugin, handler reads `request.scope` (no task)",
  task: "+ plugin + one `task()` per request",
  await: "bare, handler awaits an async fn (reference for `task`)",
  "plugin-await": "+ plugin, handler awaits an async fn (no task)",
  listener: "bare, handler adds a `'close'` listener to `reply.raw` (a watch's floor)",
  floor:
    "bare, handler awaits a Promise subclass resolved to `[undefined, value]` (a task's floor)",
  "retry-ours": "ours: `task(fn, { retry: 'exponential', timeout: 5000 })`",
  "retry-p-retry": "bare + `p-retry` with `AbortSignal.timeout(5000)`",
  "retry-loop": "bare + a hand-written retry loop with one timer",
  "retry1-ours":
    "ours, fails once: `task(fn, { retry: { max: 3, delay: 1 ms doubling }, timeout })`",
  "retry1-p-retry": "bare + `p-retry` (minTimeout 1), fails once",
  "retry1-loop": "bare + the hand-written loop (1 ms doubling), fails once",
  "fanout-ours": "ours: `scope.parallel([a, b, c], { concurrency: 3 })`",
  "fanout-p-limit": "bare + `p-limit(3)` + `Promise.all`",
  "fanout-effection": "bare + effection `run(all([call(a), call(b), call(c)]))`",
  "breaker-ours": "ours: plugin `circuitBreaker` option + one `task()`",
  "breaker-opossum": "bare + `opossum` `breaker.fire()` (timeout: false)",
  "breaker-cockatiel": "bare + `cockatiel` `circuitBreaker(...).execute(fn)`",
  "stream-ours": "ours: 100 events through `streamEvents` (channel + task)",
  "stream-generator": "bare + 100 events from an async generator through `reply.sse.send`",
};

/** One comparison: our form of a handler and the peers users would pick instead. */
export interface PeerGroup {
  ours: PeerVariant;
  peers: readonly PeerVariant[];
}

/** The comparisons of `peers_server.mjs`, by group name (also accepted by `--variants`). */
export const PEER_GROUPS: Readonly<Record<string, PeerGroup>> = {
  retry: { ours: "retry-ours", peers: ["retry-p-retry", "retry-loop"] },
  retry1: { ours: "retry1-ours", peers: ["retry1-p-retry", "retry1-loop"] },
  fanout: { ours: "fanout-ours", peers: ["fanout-p-limit", "fanout-effection"] },
  breaker: { ours: "breaker-ours", peers: ["breaker-opossum", "breaker-cockatiel"] },
  stream: { ours: "stream-ours", peers: ["stream-generator"] },
};

/**
 * Parses `--variants`: variant names and group names (`retry`, `fanout`, ...: the group's members;
 * `peers`: every group), in the order given.
 */
export function parseVariants(list: string, anyVariant = false): Variant[] {
  const out: Variant[] = [];
  const add = (v: Variant) => {
    if (!out.includes(v)) out.push(v);
  };
  for (const name of list.split(",").map((v) => v.trim()).filter((v) => v !== "")) {
    const groups = name === "peers" ? Object.values(PEER_GROUPS) : [PEER_GROUPS[name]];
    if (groups[0] !== undefined) {
      for (const g of groups) for (const v of [g!.ours, ...g!.peers]) add(v);
    } else if (anyVariant || VARIANTS.includes(name as Variant)) add(name as Variant);
    else {
      throw new TypeError(
        `--variants: unknown variant ${name}; known: ${
          [...VARIANTS, ...Object.keys(PEER_GROUPS), "peers"].join(", ")
        }`,
      );
    }
  }
  return out;
}

/**
 * How much heavier a request of the variant is than a hello request: `bench:instr` divides its
 * warm-up and counted requests by this (a stream request writes 100 events).
 */
export function weightOf(variant: string): number {
  return variant.startsWith("stream-") ? 20 : 1;
}

/** The server script (under bench/_servers/) that serves a variant. */
export function scriptOf(variant: Variant): string {
  return (VARIANTS.indexOf(variant) >= VARIANTS.indexOf("retry-ours"))
    ? "bench/_servers/peers_server.mjs"
    : "bench/_servers/hello_server.mjs";
}

/** True when the variant's server registers fastifyGoGoScope. */
export function usesPlugin(variant: string): boolean {
  return variant === "plugin" || variant === "scope" || variant === "task" ||
    variant === "plugin-await" ||
    variant.endsWith("-ours");
}

/**
 * The rows of a peers table: for every group with at least one measured member, each member's
 * figure and its ratio to the cheapest measured peer (lower is better).
 */
export function peerRows(
  figure: (v: Variant) => number | undefined,
  format: (value: number) => string,
): string[][] {
  const rows: string[][] = [];
  for (const [name, group] of Object.entries(PEER_GROUPS)) {
    const peerValues = group.peers.map(figure).filter((x): x is number => x !== undefined);
    const cheapest = peerValues.length > 0 ? Math.min(...peerValues) : NaN;
    for (const v of [group.ours, ...group.peers]) {
      const value = figure(v);
      if (value === undefined) continue;
      rows.push([
        name,
        LABELS[v],
        format(value),
        Number.isNaN(cheapest) ? "–" : (value / cheapest).toFixed(3),
      ]);
    }
  }
  return rows;
}

/** A runtime that runs a benchmark server. */
export type RuntimeName = "deno" | "node";

/** How to start a server script under one runtime, and which plugin module it loads. */
export interface Runtime {
  name: RuntimeName;
  /** Executable and arguments placed before the script path. */
  command: string;
  prefix: string[];
  /** Module specifier handed to the server with `--plugin`. */
  pluginSpec: string;
  version: string;
}

/** A JSON line printed by a server on stdout. */
export interface ServerMessage {
  type: string;
  [key: string]: unknown;
}

/** The repository root (the directory above bench/). */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** Parses `--name value` / `--flag` arguments into a map; unknown names are rejected. */
export function parseFlags(
  args: string[],
  defaults: Record<string, string>,
): Record<string, string> {
  // A flag whose default is "true" or "false" is a switch (`--fresh`); the others take a value
  // (`--rounds 3` or `--rounds=3`).
  const options: Record<string, { type: "boolean" | "string" }> = {};
  for (const [name, value] of Object.entries(defaults)) {
    options[name] = { type: value === "true" || value === "false" ? "boolean" : "string" };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    const known = Object.keys(defaults).map((k) => `--${k}`).join(", ");
    throw new TypeError(`${(error as Error).message}; known flags: ${known}`);
  }
  const out: Record<string, string> = { ...defaults };
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) out[name] = String(value);
  }
  return out;
}

/** Reads a positive number flag, failing with a message that names it. */
export function numberFlag(flags: Record<string, string>, name: string): number {
  const value = Number(flags[name]);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`--${name} must be a positive number, received ${flags[name]}`);
  }
  return value;
}

/** Rejects with a message naming `label` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, label: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${label}: timed out after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs a command to completion (bounded by `timeoutMs`) and returns its trimmed stdout. */
export async function run(
  command: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout).trim(),
    stderr: decoder.decode(output.stderr).trim(),
  };
}

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of stream) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
    }
  }
  if (buffered.length > 0) yield buffered;
}

/** A server in its own process, controlled by JSON lines (see bench/_servers/_common.mjs). */
export class ServerProcess {
  readonly label: string;
  readonly ready: Promise<ServerMessage>;
  /** The V8 inspector's WebSocket address, when the runtime was started with `--inspect`. */
  readonly inspectorUrl: Promise<string>;
  #resolveInspectorUrl: (url: string) => void = () => {};
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #waiting: Array<{ type: string; resolve: (message: ServerMessage) => void }> = [];
  #exited = false;

  constructor(
    label: string,
    runtime: Runtime,
    script: string,
    args: string[],
    startTimeoutMs = 60_000,
  ) {
    this.label = label;
    this.#child = new Deno.Command(runtime.command, {
      args: [...runtime.prefix, script, "--plugin", runtime.pluginSpec, ...args],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#writer = this.#child.stdin.getWriter();
    this.ready = withTimeout(this.#next("ready"), startTimeoutMs, `${label} start`);
    this.inspectorUrl = new Promise((resolve) => {
      this.#resolveInspectorUrl = resolve;
    });
    this.#pumpStdout();
    this.#pumpStderr();
    this.#child.status.then(() => {
      this.#exited = true;
    });
  }

  /** Sends a control command and waits for the reply of the same type. */
  async command(command: string, timeoutMs = 30_000): Promise<ServerMessage> {
    if (this.#exited) throw new Error(`${this.label} has exited`);
    const reply = this.#next(command);
    await this.#writer.write(new TextEncoder().encode(command + "\n"));
    return await withTimeout(reply, timeoutMs, `${this.label} ${command}`);
  }

  /** Asks the server to close; kills it if it has not exited within 10 s. */
  async close(): Promise<void> {
    if (!this.#exited) {
      try {
        await this.#writer.write(new TextEncoder().encode("close\n"));
        await this.#writer.close();
      } catch {
        // The process is already gone: nothing to ask.
      }
    }
    try {
      await withTimeout(this.#child.status, 10_000, `${this.label} close`);
    } catch {
      this.#child.kill("SIGKILL");
      await this.#child.status;
    }
  }

  #next(type: string): Promise<ServerMessage> {
    return new Promise((resolve) => this.#waiting.push({ type, resolve }));
  }

  async #pumpStdout(): Promise<void> {
    for await (const line of lines(this.#child.stdout)) {
      // V8's --trace-gc writes to the same stdout, and its lines may run into a message's.
      const at = line.indexOf('{"type":');
      if (at > 0) console.error(`[${this.label}] ${line.slice(0, at)}`);
      let message: ServerMessage;
      try {
        message = JSON.parse(at > 0 ? line.slice(at) : line) as ServerMessage;
      } catch {
        console.error(`[${this.label}] ${line}`);
        continue;
      }
      const index = this.#waiting.findIndex((w) => w.type === message.type);
      if (index >= 0) this.#waiting.splice(index, 1)[0]?.resolve(message);
      else if (message.type === "error") {
        console.error(`[${this.label}] ${String(message.message)}`);
      }
    }
  }

  async #pumpStderr(): Promise<void> {
    for await (const line of lines(this.#child.stderr)) {
      const inspector = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (inspector !== undefined) this.#resolveInspectorUrl(inspector);
      else if (
        !/chrome:\/\/inspect|nodejs.org\/en\/docs\/inspector|Debugger attached|Waiting for the debugger/
          .test(line)
      ) {
        console.error(`[${this.label}] ${line}`);
      }
    }
  }
}

/** Deno under test: runs the TypeScript sources (mod.ts). */
export function denoRuntime(v8Flags: string[] = [], extra: string[] = []): Runtime {
  return {
    name: "deno",
    command: Deno.execPath(),
    prefix: [
      "run",
      `--config=${ROOT}deno.dev.json`,
      "--allow-net=127.0.0.1",
      "--allow-read",
      "--allow-env",
      "--allow-sys",
      ...(v8Flags.length > 0 ? [`--v8-flags=${v8Flags.join(",")}`] : []),
      ...extra,
    ],
    pluginSpec: new URL("../mod.ts", import.meta.url).href,
    version: `${Deno.version.deno} (V8 ${Deno.version.v8})`,
  };
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Node under test: runs the built npm package (npm/esm/mod.js). Builds it with
 * `deno task build:npm` when it is missing (or when `build` is true). Returns a reason string
 * instead when Node must be skipped.
 */
export async function nodeRuntime(
  options: { build: boolean; standin: boolean; nodeFlags?: string[]; major?: string },
): Promise<Runtime | string> {
  let version: string;
  let command = "node";
  try {
    if (options.major !== undefined && options.major !== "") {
      const found = await nodeBinary(options.major);
      if (found.startsWith("!")) return found.slice(1);
      command = found;
    }
    version = (await run(command, ["--version"])).stdout;
  } catch {
    return `${command} did not run`;
  }
  const built = `${ROOT}npm/esm/mod.js`;
  if (!options.standin && (options.build || !exists(built))) {
    if (!exists(`${ROOT}scripts/build_npm.ts`)) {
      return "npm/esm/mod.js is missing and scripts/build_npm.ts does not exist yet " +
        "(run `deno task build:npm` once it does, or pass --plugin standin)";
    }
    console.error("building the npm package: deno task build:npm ...");
    const result = await run(Deno.execPath(), ["task", "build:npm"], 300_000);
    if (result.code !== 0 || !exists(built)) {
      return `deno task build:npm failed (exit ${result.code}): ${result.stderr.slice(-400)}`;
    }
  }
  if (!options.standin) warnIfStale(built);
  return {
    name: "node",
    command,
    prefix: options.nodeFlags ?? [],
    pluginSpec: options.standin ? "standin" : new URL("../npm/esm/mod.js", import.meta.url).href,
    version,
  };
}

/**
 * The executable of Node `major` (an exact release of `scripts/npm/node_releases.ts`, fetched by
 * `npx -y node@<release>` once), so that valgrind counts that process itself, not an npx wrapper;
 * a string starting with `!` says why it could not be found.
 */
async function nodeBinary(major: string): Promise<string> {
  const release = NODE_RELEASES[major];
  if (release === undefined) {
    return `!--node must be one of ${Object.keys(NODE_RELEASES).join(", ")}, received ${major}`;
  }
  const result = await run("npx", ["-y", `node@${release}`, "-p", "process.execPath"], 600_000);
  const path = result.stdout.trim().split("\n").at(-1) ?? "";
  return result.code === 0 && path !== ""
    ? path
    : `!npx -y node@${release} failed: ${result.stderr}`;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith(".ts")) {
      newest = Math.max(newest, Deno.statSync(path).mtime?.getTime() ?? 0);
    }
  }
  return newest;
}

function warnIfStale(built: string): void {
  const builtAt = Deno.statSync(built).mtime?.getTime() ?? 0;
  const sourcesAt = Math.max(
    newestMtime(`${ROOT}src`),
    Deno.statSync(`${ROOT}mod.ts`).mtime?.getTime() ?? 0,
  );
  if (sourcesAt > builtAt) {
    console.error(
      "warning: src/ or mod.ts changed after npm/ was built; Node measures the older build " +
        "(pass --build to rebuild first)",
    );
  }
}

/** The machine and runtimes, as lines for the report. */
export async function machineInfo(runtimes: Runtime[]): Promise<string[]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? "unknown";
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKb = Number(/MemTotal:\s*(\d+)/.exec(meminfo)?.[1] ?? 0);
  const fastify = JSON.parse(
    await Deno.readTextFile(`${ROOT}node_modules/fastify/package.json`).catch(() => "{}"),
  ) as { version?: string };
  return [
    `machine: ${navigator.hardwareConcurrency} CPUs (${model}), ${
      (memKb / 1048576).toFixed(1)
    } GiB RAM, ${Deno.build.os}/${Deno.build.arch}`,
    ...runtimes.map((r) => `${r.name}: ${r.version}`),
    `fastify: ${fastify.version ?? "unknown"}`,
  ];
}

/** The median of a non-empty list. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[mid] ?? NaN
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Formats an integer with thousands separators. */
export function int(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** Renders a markdown table. */
export function table(header: string[], rows: string[][]): string {
  const out = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) out.push(`| ${row.join(" | ")} |`);
  return out.join("\n");
}
