/**
 * `@go-go-scope/adapter-fastify/testing`: a testing kit for code built on the
 * plugin and its core. Three parts:
 *
 * - **go-go-scope's testing names**, working (`createTimeController`,
 *   `createControlledTimer`, `createTimeTravelController`, `createMockScope`,
 *   `createSpy`, `expectTask`, `assertResolves`, `assertRejects`,
 *   `assertResolvesWithin`, `assertScopeDisposed`, `createMockChannel`,
 *   `createTestScope`, `flushPromises`): tests written for
 *   `@go-go-scope/testing` run unchanged, and what is broken there works here.
 * - **A virtual clock** covering every timer source (`setTimeout`,
 *   `setInterval`, `Date`, `performance.now`, `AbortSignal.timeout`), built on
 *   `@sinonjs/fake-timers`, whose `advance()` lets promise callbacks run
 *   between timers.
 * - **Fastify helpers**: `leaveRequest` drives a request over a real socket
 *   and makes the client leave at a lifecycle phase, after a named task
 *   started, or after some milliseconds; `probeRequests` records each
 *   request's scope, phases and tasks; `assertNoRequestScopes` fails when a
 *   request scope is left alive.
 *
 * Importing the plugin (`@go-go-scope/adapter-fastify`) never loads this
 * module or `@sinonjs/fake-timers`.
 *
 * @example
 * ```ts
 * import { createTimeController } from "@go-go-scope/adapter-fastify/testing";
 * import { scope, TimeoutError } from "@go-go-scope/adapter-fastify/core";
 *
 * using time = createTimeController();
 * time.install();
 * await using s = scope();
 * const task = s.task(() => new Promise(() => {}), { timeout: 30_000 });
 * await time.advance(30_000); // no real time passes
 * const [err] = await task;
 * console.log(err instanceof TimeoutError); // true
 * ```
 *
 * @module
 */

// The virtual clock
export {
  createTimeController,
  type TimeController,
  type TimeControllerOptions,
} from "./clock/time_controller.ts";
export { VirtualClockError, type VirtualClockErrorCode } from "./errors.ts";
export { flushPromises } from "./flush_promises.ts";
export { createTestScope, type TestScope } from "./test_scope.ts";

// Standalone timers (nothing global replaced)
export { type ControlledTimer, createControlledTimer } from "./clock/controlled_timer.ts";
export {
  createTimeTravelController,
  type HistoryEntry,
  type TimeTravelController,
} from "./clock/time_travel_controller.ts";

// Mocks and spies
export {
  createMockScope,
  type MockScope,
  type MockScopeOptions,
  type TaskCall,
} from "./mock_scope.ts";
export { createSpy, type Spy, type SpyCall } from "./spy.ts";
export { createMockChannel, type MockChannel } from "./mock_channel.ts";

// Assertions
export {
  assertRejects,
  assertResolves,
  assertResolvesWithin,
  assertScopeDisposed,
  expectTask,
  type TaskAssertion,
} from "./assertions.ts";

// Fastify: requests over real sockets, clients that leave, leaked scopes
export {
  type LifecyclePhase,
  probeRequests,
  type RequestProbe,
  type RequestRecord,
  type TaskOutcome,
  type TaskRecord,
} from "./fastify/request_probe.ts";
export {
  leaveRequest,
  type LeaveRequestOptions,
  type LeftRequest,
} from "./fastify/leave_request.ts";
export type { LeaveAt } from "./fastify/departure.ts";
export {
  assertNoRequestScopes,
  type AssertNoRequestScopesOptions,
} from "./fastify/assert_no_request_scopes.ts";
