/**
 * Helpers shared by the HTTP benchmark (`bench/http.ts`) and the soak test (`bench/soak.ts`):
 * flag parsing, server processes driven over stdin/stdout, runtime discovery, machine facts.
 *
 * @module
 */

/** The variants of `bench/_servers/hello_server.mjs`, measured by `bench:http` and `bench:instr`. */
export type Variant = "bare" | "control" | "plugin" | "task" | "await" | "plugin-await";

/** Every variant, in report order. */
export const VARIANTS: readonly Variant[] = [
  "bare",
  "control",
  "plugin",
  "task",
  "await",
  "plugin-await",
];

/** How each variant is named in the reports. */
export const LABELS: Record<Variant, string> = {
  bare: "bare Fastify",
  control: "bare Fastify again (control: the noise floor)",
  plugin: "+ plugin",
  task: "+ plugin + one `task()` per request",
  await: "bare, handler awaits an async fn (reference for `task`)",
  "plugin-await": "+ plugin, handler awaits an async fn (no task)",
};

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
  const out: Record<string, string> = { ...defaults };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (!arg.startsWith("--")) throw new TypeError(`Unexpected argument ${arg}`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else {
      const next = args[i + 1];
      if (next !== undefined && !next.startsWith("--")) {
        value = next;
        i++;
      } else value = "true";
    }
    if (!(name in defaults)) {
      throw new TypeError(
        `Unknown flag --${name}; known: ${Object.keys(defaults).map((k) => `--${k}`).join(", ")}`,
      );
    }
    out[name] = value;
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
      let message: ServerMessage;
      try {
        message = JSON.parse(line) as ServerMessage;
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
  options: { build: boolean; standin: boolean; nodeFlags?: string[] },
): Promise<Runtime | string> {
  let version: string;
  try {
    version = (await run("node", ["--version"])).stdout;
  } catch {
    return "node is not on PATH";
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
    command: "node",
    prefix: options.nodeFlags ?? [],
    pluginSpec: options.standin ? "standin" : new URL("../npm/esm/mod.js", import.meta.url).href,
    version,
  };
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
