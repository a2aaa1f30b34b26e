// Property tests: random trees of scopes and tasks with random failures,
// timeouts, cancellations and early disposals. Whatever happens, once the
// root is disposed every task has settled, every scope is disposed, every
// cleanup ran exactly once, no cleanup error was swallowed, and the root has
// no live children.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Result,
  type Scope,
  scope,
  type ScopeOptions,
  type Task,
} from "../../src/core/mod.ts";
import { forever, sleep, untilAborted } from "./_helpers.ts";

type TaskKind = "sync" | "ok" | "fail" | "non-error" | "hang" | "ignore-signal";

interface TaskSpec {
  kind: TaskKind;
  ms: number;
  timeout: number | undefined;
  retries: number;
  startAt: number | undefined;
  cancelAt: number | undefined;
}

interface ScopeSpec {
  timeout: number | undefined;
  concurrency: number | undefined;
  cancelAt: number | undefined;
  disposeAt: number | undefined;
  cleanups: number;
  throwingCleanup: boolean;
  tasks: TaskSpec[];
  children: ScopeSpec[];
}

const maybe = (min: number, max: number): fc.Arbitrary<number | undefined> =>
  fc.option(fc.integer({ min, max }), { nil: undefined, freq: 3 });

const taskSpec: fc.Arbitrary<TaskSpec> = fc.record({
  kind: fc.constantFrom<TaskKind>("sync", "ok", "fail", "non-error", "hang", "ignore-signal"),
  ms: fc.integer({ min: 0, max: 6 }),
  timeout: maybe(1, 10),
  retries: fc.integer({ min: 0, max: 2 }),
  startAt: maybe(0, 10),
  cancelAt: maybe(0, 10),
});

function scopeSpec(depth: number): fc.Arbitrary<ScopeSpec> {
  return fc.record({
    timeout: maybe(1, 12),
    concurrency: maybe(1, 3),
    cancelAt: maybe(0, 12),
    disposeAt: maybe(0, 12),
    cleanups: fc.integer({ min: 0, max: 3 }),
    throwingCleanup: fc.boolean(),
    tasks: fc.array(taskSpec, { maxLength: 4 }),
    children: depth === 0 ? fc.constant([]) : fc.array(scopeSpec(depth - 1), { maxLength: 3 }),
  });
}

/** Waits `ms`, rejecting (and clearing its timer) when `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

function flatten(errors: unknown[]): unknown[] {
  return errors.flatMap((e) => e instanceof AggregateError ? flatten(e.errors) : [e]);
}

interface Outcome {
  root: Scope;
  scopes: Scope[];
  tasks: Task<unknown>[];
  results: Result<Error, unknown>[];
  cleanupRuns: number[];
  thrown: Set<unknown>;
  reported: unknown[];
  /** Task functions called while their scope was already aborted. */
  calledAfterAbort: number;
  /** Per task: its function returned a value while its scope was already aborted. */
  returnedAfterAbort: boolean[];
}

async function runTree(spec: ScopeSpec, wait: number): Promise<Outcome> {
  const timers: ReturnType<typeof setTimeout>[] = [];
  const later = (ms: number, fn: () => void): void => {
    timers.push(setTimeout(fn, ms));
  };
  const scopes: Scope[] = [];
  const tasks: Task<unknown>[] = [];
  const cleanupRuns: number[] = [];
  const thrown = new Set<unknown>();
  const reported: unknown[] = [];
  const disposals: Promise<void>[] = [];
  let calledAfterAbort = 0;
  const returnedAfterAbort: boolean[] = [];

  function options(node: ScopeSpec): ScopeOptions {
    const o: ScopeOptions = {};
    if (node.timeout !== undefined) o.timeout = node.timeout;
    if (node.concurrency !== undefined) o.concurrency = node.concurrency;
    return o;
  }

  function startTask(s: Scope, t: TaskSpec): void {
    const index = returnedAfterAbort.push(false) - 1;
    const returned = (value: number): number => {
      if (s.signal.aborted) returnedAfterAbort[index] = true;
      return value;
    };
    const run = ({ signal }: { signal: AbortSignal }): unknown => {
      if (s.signal.aborted) calledAfterAbort++;
      switch (t.kind) {
        case "sync":
          return returned(t.ms);
        case "ok":
          return abortableSleep(t.ms, signal).then(() => returned(t.ms));
        case "fail":
          return abortableSleep(t.ms, signal).then(() => {
            throw new Error("random failure");
          });
        case "non-error":
          return abortableSleep(t.ms, signal).then(() => {
            throw "random string";
          });
        case "hang":
          return untilAborted(signal);
        case "ignore-signal":
          return forever();
      }
    };
    const task = s.task(run, {
      ...(t.timeout !== undefined ? { timeout: t.timeout } : {}),
      ...(t.retries > 0 ? { retry: { max: t.retries, delay: 1 } } : {}),
    });
    tasks.push(task);
    if (t.cancelAt !== undefined) later(t.cancelAt, () => task.cancel(new Error("random cancel")));
  }

  function build(s: Scope, node: ScopeSpec, isRoot: boolean): void {
    scopes.push(s);
    for (let i = 0; i < node.cleanups; i++) {
      const index = cleanupRuns.push(0) - 1;
      const error = node.throwingCleanup && i === 0
        ? new Error(`cleanup ${index} failed`)
        : undefined;
      if (error) thrown.add(error);
      s.onDispose(() => {
        cleanupRuns[index]!++;
        if (error) throw error;
      });
    }
    for (const t of node.tasks) {
      if (t.startAt === undefined) startTask(s, t);
      else later(t.startAt, () => startTask(s, t));
    }
    for (const c of node.children) build(s.createChild(options(c)), c, false);
    if (node.cancelAt !== undefined) {
      later(node.cancelAt, () => s.cancel(new Error("random abort")));
    }
    if (!isRoot && node.disposeAt !== undefined) {
      later(node.disposeAt, () => {
        disposals.push(s[Symbol.asyncDispose]().catch((e) => void reported.push(e)));
      });
    }
  }

  const root = scope(options(spec));
  build(root, spec, true);
  await sleep(wait);
  try {
    await root[Symbol.asyncDispose]();
  } catch (e) {
    reported.push(e);
  }
  for (const timer of timers) clearTimeout(timer);
  await Promise.all(disposals);
  const results = await Promise.all(tasks);
  return {
    root,
    scopes,
    tasks,
    results,
    cleanupRuns,
    thrown,
    reported,
    calledAfterAbort,
    returnedAfterAbort,
  };
}

const NUM_RUNS = 50;

test("property: after the root is disposed, everything has settled, is disposed and cleaned up once", async () => {
  await fc.assert(
    fc.asyncProperty(scopeSpec(3), fc.integer({ min: 0, max: 12 }), async (spec, wait) => {
      const o = await runTree(spec, wait);
      assert.equal(o.root.childCount, 0);
      for (const t of o.tasks) assert.equal(t.isSettled, true);
      for (const [err, value] of o.results) {
        if (err !== undefined) {
          assert.ok(err instanceof Error);
          assert.equal(value, undefined);
        }
      }
      for (const s of o.scopes) {
        assert.equal(s.isDisposed, true);
        assert.equal(s.signal.aborted, true);
        assert.equal(s.childCount, 0);
        assert.equal(s.taskCount, 0);
      }
      assert.deepEqual(o.cleanupRuns, o.cleanupRuns.map(() => 1));
      assert.deepEqual(new Set(flatten(o.reported)), o.thrown);
    }),
    { numRuns: NUM_RUNS },
  );
});

test("property: a task succeeds only with a value its function returned before its scope aborted", async () => {
  await fc.assert(
    fc.asyncProperty(scopeSpec(2), fc.integer({ min: 0, max: 12 }), async (spec, wait) => {
      const o = await runTree(spec, wait);
      o.results.forEach(([err, value], i) => {
        if (err !== undefined) return;
        assert.equal(typeof value, "number", `task ${i} succeeded with ${String(value)}`);
        assert.equal(o.returnedAfterAbort[i], false, `task ${i} succeeded after its scope aborted`);
      });
    }),
    { numRuns: NUM_RUNS },
  );
});

test("property: no task function is called once its scope has aborted", async () => {
  await fc.assert(
    fc.asyncProperty(scopeSpec(2), fc.integer({ min: 0, max: 12 }), async (spec, wait) => {
      const o = await runTree(spec, wait);
      assert.equal(o.calledAfterAbort, 0);
    }),
    { numRuns: NUM_RUNS },
  );
});
