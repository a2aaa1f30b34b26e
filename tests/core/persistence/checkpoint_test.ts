// Task options id and checkpoint, ctx.checkpoint / ctx.progress, scope.resumeTask,
// createCheckpointContext, InMemoryCheckpointProvider.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type Checkpoint,
  type CheckpointState,
  createCheckpointContext,
  createProgressContext,
  InMemoryCheckpointProvider,
  scope,
} from "../../../src/core/mod.ts";

test("checkpoint: a failed run keeps its checkpoints and resumeTask continues from the latest", async () => {
  const checkpoint = new InMemoryCheckpointProvider();
  await using s = scope({ persistence: { checkpoint } });
  const [err] = await s.task(async (ctx) => {
    assert.equal(ctx.checkpoint?.data, undefined);
    await ctx.checkpoint!.save({ processed: 10 });
    await ctx.checkpoint!.save({ processed: 20 });
    throw new Error("crash");
  }, { id: "migration", checkpoint: {} });
  assert.equal(err?.message, "crash");
  assert.equal((await checkpoint.list("migration")).length, 2);
  const [, value] = await s.resumeTask("migration", (ctx) => {
    return (ctx.checkpoint?.data as { processed: number }).processed;
  });
  assert.equal(value, 20);
  assert.deepEqual(await checkpoint.list("migration"), []); // success deletes them
});

test("checkpoint: sequences keep increasing across runs; maxCheckpoints keeps the newest", async () => {
  const checkpoint = new InMemoryCheckpointProvider();
  await using s = scope({ persistence: { checkpoint } });
  const run = () =>
    s.task(async (ctx) => {
      for (let i = 0; i < 3; i++) await ctx.checkpoint!.save(i);
      throw new Error("again");
    }, { id: "job", checkpoint: { maxCheckpoints: 2 } });
  await run();
  await run();
  const list = await checkpoint.list("job");
  assert.deepEqual(list.map((c) => c.sequence), [5, 6]);
});

test("checkpoint: onResume and onCheckpoint are called; progress is saved with each checkpoint", async () => {
  const checkpoint = new InMemoryCheckpointProvider();
  await using s = scope({ persistence: { checkpoint } });
  const saved: Checkpoint<unknown>[] = [];
  const resumed: Checkpoint<unknown>[] = [];
  const opts = {
    id: "p",
    checkpoint: {
      onCheckpoint: (c: Checkpoint<unknown>) => saved.push(c),
      onResume: (c: Checkpoint<unknown>) => resumed.push(c),
    },
  };
  await s.task(async (ctx) => {
    ctx.progress!.update(40);
    await ctx.checkpoint!.save("x");
    throw new Error("stop");
  }, opts);
  assert.equal(saved[0]?.progress, 40);
  assert.equal(resumed.length, 0);
  await s.resumeTask("p", () => 1, { checkpoint: opts.checkpoint });
  assert.equal(resumed[0]?.data, "x");
});

test("checkpoint: resumeTask with requireExisting fails without running when there is none", async () => {
  await using s = scope({ persistence: { checkpoint: new InMemoryCheckpointProvider() } });
  let ran = false;
  const [err] = await s.resumeTask("nothing", () => (ran = true), { requireExisting: true });
  assert.match(err!.message, /No checkpoint found for task ID: nothing/);
  assert.equal(ran, false);
});

test("checkpoint: the task's own context (signal, logger) still works beside checkpoint", async () => {
  await using s = scope({ context: { user: "ada" } });
  const [, v] = await s.task(
    (ctx) => [ctx.signal.aborted, ctx.context.user, typeof ctx.logger.info],
    { id: `ctx-${Math.random()}`, checkpoint: {} },
  );
  assert.deepEqual(v, [false, "ada", "function"]);
});

test("checkpoint: a task gets checkpoints with the checkpoint option, not with an id alone", async () => {
  const checkpoint = new InMemoryCheckpointProvider();
  await using s = scope({ persistence: { checkpoint } });
  const cases: [string, Record<string, unknown>, boolean][] = [
    ["id alone", { id: "a" }, false],
    ["id and checkpoint", { id: "b", checkpoint: {} }, true],
    ["neither", {}, false],
  ];
  for (const [what, options, expected] of cases) {
    const [, seen] = await s.task((ctx) => [ctx.checkpoint, ctx.progress], options);
    assert.equal(seen![0] !== undefined, expected, `${what}: checkpoint`);
    assert.equal(seen![1] !== undefined, expected, `${what}: progress`);
  }
});

test("checkpoint: without a provider they are kept in this process's memory", async () => {
  await using s = scope();
  const id = `in-memory-${Math.random()}`;
  await s.task(async (ctx) => {
    await ctx.checkpoint!.save({ step: 1 });
    throw new Error("stop");
  }, { id, checkpoint: {} });
  const [, data] = await s.resumeTask(id, (ctx) => ctx.checkpoint?.data);
  assert.deepEqual(data, { step: 1 });
});

test("createCheckpointContext: save stores the next checkpoint and updates the state", async () => {
  const provider = new InMemoryCheckpointProvider();
  const saved: Checkpoint<unknown>[] = [];
  const state: CheckpointState<{ count: number }> = {
    provider,
    taskId: "task-1",
    sequence: 0,
    maxCheckpoints: 2,
    onCheckpoint: (c) => saved.push(c),
  };
  const ctx = createCheckpointContext(state);
  assert.equal(ctx.data, undefined);
  for (const count of [1, 2, 42]) await ctx.save({ count });
  assert.deepEqual(ctx.data, { count: 42 });
  assert.equal(state.sequence, 3);
  assert.equal(state.current?.sequence, 3);
  assert.deepEqual(saved.map((c) => [c.taskId, c.sequence, c.data]), [
    ["task-1", 1, { count: 1 }],
    ["task-1", 2, { count: 2 }],
    ["task-1", 3, { count: 42 }],
  ]);
  assert.deepEqual((await provider.list("task-1")).map((c) => c.sequence), [2, 3]);
  // A context over a loaded checkpoint reads its data and continues its sequence.
  const loaded = await provider.loadLatest<{ count: number }>("task-1");
  const again = createCheckpointContext({ ...state, current: loaded, sequence: loaded!.sequence });
  assert.deepEqual(again.data, { count: 42 });
  await again.save({ count: 43 });
  assert.equal((await provider.loadLatest("task-1"))?.sequence, 4);
});

test("createCheckpointContext: a bad state throws naming the field", () => {
  const provider = new InMemoryCheckpointProvider();
  const good = { provider, taskId: "t", sequence: 0, maxCheckpoints: 1 };
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ provider: {} }, /"provider.save" must be a function/],
    [{ taskId: 1 }, /"taskId" must be a string/],
    [{ sequence: -1 }, /"sequence" must be an integer >= 0/],
    [{ maxCheckpoints: 0 }, /"maxCheckpoints" must be an integer >= 1/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(
      () => createCheckpointContext({ ...good, ...bad } as never),
      { message: new RegExp(`^Cannot create checkpoint context: ${message.source}`) },
    );
  }
});

test("checkpoint: the task is named after its id", async () => {
  await using s = scope();
  const t = s.task(() => 1, { id: "named-job" });
  assert.equal(t.name, "named-job");
  await t;
});

test("progress: update notifies listeners with an estimate; off removes them", async () => {
  const p = createProgressContext();
  const seen: number[] = [];
  const off = p.onUpdate(({ percentage }) => seen.push(percentage));
  p.update(0);
  await new Promise((r) => setTimeout(r, 5));
  p.update(50);
  assert.equal(typeof p.get().eta, "number");
  off();
  p.update(100);
  assert.deepEqual(seen, [0, 50]);
  assert.equal(p.get().eta, undefined);
  assert.throws(() => p.update(101), /"percentage" must be a number from 0 to 100, received 101/);
});

test("checkpoint: bad options throw at once, naming the option", async () => {
  await using s = scope();
  assert.throws(() => s.task(() => 1, { id: 5 as never }), /"id" must be a string, received 5/);
  assert.throws(
    () => s.task(() => 1, { checkpoint: {} }),
    /"id" must be a non-empty string \("checkpoint" needs it\)/,
  );
  assert.throws(
    () => s.task(() => 1, { id: "a", checkpoint: { maxCheckpoints: 0 } }),
    /"checkpoint.maxCheckpoints" must be an integer >= 1/,
  );
});

test("checkpoint provider: load by id, cleanup and deleteAll", async () => {
  const p = new InMemoryCheckpointProvider();
  for (let i = 1; i <= 3; i++) {
    await p.save({ id: `c${i}`, taskId: "t", sequence: i, timestamp: 0, progress: 0, data: i });
  }
  assert.equal((await p.load("c2"))?.data, 2);
  await p.cleanup("t", 1);
  assert.deepEqual((await p.list("t")).map((c) => c.id), ["c3"]);
  await p.deleteAll("t");
  assert.equal(await p.loadLatest("t"), undefined);
});
