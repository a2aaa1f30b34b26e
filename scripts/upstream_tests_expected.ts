/**
 * The tests of go-go-scope's own suite that fail against our core on purpose
 * (`scripts/upstream_tests.ts`): each one with the difference it shows and why we keep it.
 *
 * @module
 */

/** A test of go-go-scope's suite allowed to fail against our core, and why. */
export interface ExpectedDifference {
  /** The test file, relative to `packages/go-go-scope/tests/`, without `.test.ts`. */
  file: string;
  /** The test's path of names (`describe > test`), as the runner prints it. */
  test: string;
  /** One line: the difference, and why we keep it. */
  why: string;
}

/** Differences we keep on purpose (docs/go-go-scope.md lists them with the others). */
export const EXPECTED: readonly ExpectedDifference[] = [
  {
    file: "channel-backpressure",
    test:
      "Channel Backpressure Strategies > 'block' strategy (default) > should reject blocked senders on channel close",
    why:
      "close() resolves blocked senders with false instead of rejecting them: a producer learns the channel closed without a try/catch",
  },
  {
    file: "channel-backpressure",
    test:
      "Channel Backpressure Strategies > 'error' strategy > ChannelFullError should have correct properties",
    why:
      "ChannelFullError's message names the capacity and the mode (name, _tag, code and instanceof match go-go-scope's)",
  },
  {
    file: "core",
    test: "Scope > parent option inherits all scope options",
    why:
      "scope.circuitBreaker is the breaker instance, shared down the tree so one breaker guards every request (upstream: the options, a new breaker per child)",
  },
  {
    file: "core",
    test: "Scope > child scope can override parent options",
    why: "scope.circuitBreaker is the breaker instance, not its options (see the test above)",
  },
  {
    file: "core",
    test: "Scope > throws when task() on disposed scope",
    why:
      "task() on a disposed scope resolves [reason, undefined] instead of throwing: a request that timed out gets a Result, not an unhandled 500",
  },
  {
    file: "core",
    test: "Scope > throws when task() on aborted scope",
    why: "task() on an aborted scope resolves [reason, undefined] instead of throwing (see above)",
  },
  {
    file: "core",
    test: "task() with retry option > respects AbortSignal during delay",
    why:
      "a non-Error abort reason ('cancelled') arrives wrapped in an AbortError whose reason holds it: the Result's error is always an Error",
  },
  {
    file: "fuzz",
    test: "fuzz tests > parallel with random task durations and errors",
    why:
      "parallel() resolves [err, values] as go-go-scope's documentation shows (upstream returns one Result per factory)",
  },
  {
    file: "performance-optimized",
    test: "Performance Optimizations > Task optimizations > Task lazy AbortController creation",
    why:
      "reads go-go-scope's private field task.abortController: ours is a private field (also created on first use)",
  },
  {
    file: "performance-optimized",
    test: "Performance Optimizations > Scope optimizations > Scope collections created on demand",
    why:
      "reads go-go-scope's private field scope._dedupeRegistry: ours are private fields (also created on first use)",
  },
  {
    file: "performance-optimized",
    test: "Performance Optimizations > Scope optimizations > Scope activeTasks Set operations",
    why:
      "reads go-go-scope's private field scope.activeTasks: ours is private (scope.taskCount counts the same tasks)",
  },
  {
    file: "persistence-integration",
    test:
      "persistence integration > scope checkpoint integration > resumeTask throws without checkpoint provider",
    why:
      "resumeTask() without persistence.checkpoint resumes from the in-memory checkpoints (see checkpoint)",
  },
  {
    file: "scope-properties",
    test: "Scope Property-Based Tests > parallel properties > parallel preserves order of results",
    why: "parallel() resolves [err, values] (see fuzz)",
  },
  {
    file: "scope-properties",
    test: "Scope Property-Based Tests > cancellation properties > disposed scope rejects new tasks",
    why: "task() on a disposed scope resolves [reason, undefined] instead of throwing (see core)",
  },
  {
    file: "type-check",
    test: "type safety > parallel preserves individual result types",
    why: "standalone parallel() resolves [err, values] like scope.parallel() (see fuzz)",
  },
  {
    file: "type-check",
    test: "type safety > scope.parallel preserves individual result types",
    why: "parallel() resolves [err, values] (see fuzz)",
  },
  {
    file: "checkpoint",
    test:
      "checkpoint > scope.task with checkpoint > should NOT inject checkpoint when no provider configured",
    why:
      "without persistence.checkpoint, checkpoints are kept in memory: a task that asks for them gets them instead of a ctx.checkpoint that silently does nothing",
  },
  {
    file: "checkpoint",
    test: "checkpoint > scope.resumeTask > should throw if no checkpoint provider configured",
    why:
      "resumeTask() without persistence.checkpoint resumes from the in-memory checkpoints (see above), and resolves a Result like every task",
  },
  {
    file: "checkpoint",
    test: "checkpoint > scope.resumeTask > should throw with requireExisting if no checkpoint",
    why:
      "resumeTask() resolves [error, undefined] like every task instead of rejecting: no unhandled rejection in a handler",
  },
  {
    file: "debug-tree",
    test: "debugTree > ASCII format > shows disposed status",
    why:
      "a disposed child leaves its parent, so debugTree() never shows it: request scopes would otherwise pile up on fastify.scope, a leak per request",
  },
  {
    file: "idempotency",
    test: "Idempotency > Task idempotency > works without idempotency provider (no caching)",
    why:
      "without persistence.idempotency, results are kept in memory: idempotency: { key } deduplicates in one process instead of silently doing nothing",
  },
];
