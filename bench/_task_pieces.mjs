// What each piece of a task costs, outside HTTP: one process runs several kinds of per-request
// work in turn, each between two reads of `process.ppid` (libc's getppid), so that
// `valgrind --tool=callgrind --dump-before=getppid` writes one dump per phase (see BENCHMARKS.md,
// 2026-12-07). Every kind creates and disposes a request scope as the plugin does; each adds one
// piece to the one before it:
//
//   scope     the scope alone (the baseline; scope2 repeats it at the end, the first phase also
//             holds the last compilations of the warm-up)
//   promise   + `await new Promise((r) => r(value))`: a promise, its resolve, one await
//   result    + the promise resolves to a Result tuple `[undefined, value]`, destructured
//   sub       + the promise is an instance of a Promise subclass (constructor reads as Promise)
//   fat       + that subclass has the Task's nineteen fields
//   task      the real `await scope.task(fn)`
//
// Usage: <runtime> bench/_task_pieces.mjs <repository root> <kinds> <warm-up> <counted>, with
// `--expose-gc` and the instrument's V8 flags; Node loads npm/esm, Deno the TypeScript sources.
import process from "node:process";

const [dir, kindsArg = "", warmArg = "0", countArg = "0"] = process.argv.slice(2);
const deno = typeof globalThis.Deno === "object";
const base = deno ? `file://${dir}/src/core/` : `file://${dir}/npm/esm/src/core/`;
const ext = deno ? ".ts" : ".js";
const core = await import(`${base}mod${ext}`);
const door = await import(`${base}_child_scope${ext}`);
const root = core.scope({ name: "root" });
const value = { ok: true };
const fn = () => value;

let captured;
function capture(resolve) {
  captured = resolve;
}
class Sub extends Promise {
  constructor() {
    super(capture);
    this.resolve = captured;
    captured = undefined;
  }
}
Object.defineProperty(Sub.prototype, "constructor", {
  value: Promise,
  writable: true,
  configurable: true,
});
class Fat extends Promise {
  id;
  #owner;
  #fn;
  #name;
  #result;
  #resolve;
  #controller;
  #aborted = false;
  #abortReason;
  #deadline;
  #sleepTimer;
  #wake;
  #signal;
  #policy;
  #breaker;
  #inBreaker;
  #trial = false;
  #holdsSlot = false;
  #extras;
  constructor(owner, f) {
    super(capture);
    this.#resolve = captured;
    captured = undefined;
    this.id = 1;
    this.#owner = owner;
    this.#fn = f;
  }
  run() {
    this.#result = [undefined, this.#fn({})];
    this.#resolve(this.#result);
  }
}
Object.defineProperty(Fat.prototype, "constructor", {
  value: Promise,
  writable: true,
  configurable: true,
});

const KINDS = {
  scope: async () => value,
  scope2: async () => value,
  promise: async () => await new Promise((resolve) => resolve(value)),
  result: async () => {
    const [error, v] = await new Promise((resolve) => resolve([undefined, value]));
    if (error) throw error;
    return v;
  },
  sub: async () => {
    const p = new Sub();
    p.resolve([undefined, value]);
    const [error, v] = await p;
    if (error) throw error;
    return v;
  },
  fat: async (s) => {
    const p = new Fat(s, fn);
    p.run();
    const [error, v] = await p;
    if (error) throw error;
    return v;
  },
  task: async (s) => {
    const [error, v] = await s.task(fn);
    if (error) throw error;
    return v;
  },
};

let id = 0;
async function iteration(kind) {
  id++;
  const s = door.childScope(root, {
    name: "request-" + id,
    logger: undefined,
    context: { requestId: id },
    timeout: undefined,
    concurrency: undefined,
    circuitBreaker: undefined,
  });
  const out = await KINDS[kind](s);
  door.disposeScope(s);
  return out;
}

const kinds = kindsArg.split(",");
const warm = Number(warmArg);
const count = Number(countArg);
for (let round = 0; round < 10; round++) {
  for (const kind of kinds) for (let i = 0; i < warm / 10; i++) await iteration(kind);
}
for (const kind of kinds) {
  for (let i = 0; i < 2; i++) globalThis.gc?.({ type: "minor" });
  void process.ppid; // a dump: the collections before the phase
  for (let i = 0; i < count; i++) await iteration(kind);
  void process.ppid; // a dump: this kind's phase
}
