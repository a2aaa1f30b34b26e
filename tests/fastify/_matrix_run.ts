// Runs one lifecycle-matrix case over a real socket and collects what failed:
// the abort reason, the abort's latency after the event, scopes left alive,
// the response the client got and the plugin's own error logs.
import type { FastifyInstance } from "fastify";
import {
  ClientDisconnectedError,
  ResponseStreamError,
  type Scope,
  ServerClosingError,
  TimeoutError,
} from "../../src/core/mod.ts";
import { listen, sleep, waitFor } from "./_helpers.ts";
import { type Expected, type MatrixCase, throws } from "./_matrix.ts";
import { DEADLINE_MS, pathOf, type Probe, probeApp, type RequestRecord } from "./_matrix_app.ts";
import { h1Client, h2Client, type MatrixClient } from "./_matrix_clients.ts";

/** The longest a scope may take to abort after the event that ends its request. */
export const MAX_LATENCY_MS = 100;

/** What a case observed, and what of it broke the contract (empty: passed). */
export interface CaseResult {
  readonly failures: string[];
  readonly observed: string[];
  /** Each stalled request's abort latency after the event, in ms. */
  readonly latencies: number[];
}

/** `TimeoutError(GGS_ERR_TIMEOUT, cause FST_ERR_HANDLER_TIMEOUT)`, for reports. */
export function describeReason(reason: unknown): string {
  if (reason === undefined) return "none";
  if (!(reason instanceof Error)) return `a non-error: ${String(reason)}`;
  const code = (reason as { code?: unknown }).code;
  const cause = (reason as { cause?: { code?: unknown } }).cause;
  const causeCode = cause === undefined ? "" : `, cause ${String(cause.code ?? cause)}`;
  return `${reason.constructor.name}(${String(code)}${causeCode})`;
}

/** The stable `code` each expected error class carries. */
const CODES = new Map<Expected, string>([
  [ClientDisconnectedError, "GGS_ERR_CLIENT_DISCONNECTED"],
  [TimeoutError, "GGS_ERR_TIMEOUT"],
  [ServerClosingError, "GGS_ERR_SERVER_CLOSING"],
]);

/** Why `reason` is not the expected one, or undefined when it is. */
export function wrongReason(
  reason: unknown,
  expected: Expected,
  cause?: string,
): string | undefined {
  if (expected === "normal") {
    const unexpected = [
      ClientDisconnectedError,
      ServerClosingError,
      TimeoutError,
      ResponseStreamError,
    ]
      .some((type) => reason instanceof type);
    return reason === undefined || unexpected
      ? `reason ${describeReason(reason)}, expected a normal end (plain disposal)`
      : undefined;
  }
  const code = CODES.get(expected);
  const got = reason as { code?: unknown; cause?: { code?: unknown } } | undefined;
  if (!(reason instanceof expected) || got?.code !== code) {
    return `reason ${describeReason(reason)}, expected ${expected.name}(${code})`;
  }
  if (cause !== undefined && got?.cause?.code !== cause) {
    return `reason ${describeReason(reason)}, expected its cause to be ${cause}`;
  }
  return undefined;
}

/** Settles with `p`, or with "timeout" after `ms`. */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, ms, "timeout")));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `p`, its rejection ignored (a waitFor whose timeout is checked afterwards). */
export const quietly = (p: Promise<void>): Promise<void> => p.catch(() => {});

/** The status the client must get once a request completes after its gate opens. */
function completedStatus(c: MatrixCase): number {
  if (throws(c)) return 500;
  return c.read === "notFound" ? 404 : 200;
}

/** Runs case `c` on a fresh app and client; never throws. */
export async function runCase(c: MatrixCase): Promise<CaseResult> {
  const failures: string[] = [];
  const observed: string[] = [];
  const latencies: number[] = [];
  const fail = (message: string) => void failures.push(message);
  let stage = "creating the app";
  let probe: Probe | undefined;
  let client: MatrixClient | undefined;
  let closing: Promise<void> | undefined;
  try {
    probe = await probeApp(c);
    const { app, records, gate } = probe;
    const port = await listen(app);
    stage = "sending the request";
    const sentAt = performance.now();
    if (c.protocol === "h2") client = await h2Client(port, probe.path);
    else {
      const paths = [pathOf(c, 1, c.pipeline === 1)];
      for (let n = 2; n <= c.pipeline; n++) paths.push(pathOf(c, n, true));
      client = await h1Client(port, paths);
    }
    const conn = client;
    const firstStalled = c.pipeline > 1 ? 2 : 1;
    stage = `waiting for request ${firstStalled} to stall in ${c.stall}`;
    await waitFor(() => records.get(firstStalled)?.stalledAt !== undefined, stage, 1000);
    if (c.end.startsWith("hijack")) {
      stage = "waiting for the hijacked response's first chunk";
      await waitFor(() => conn.text().includes("partial"), stage, 1000);
    }
    if (c.pipeline > 1) {
      stage = "waiting for the first pipelined response";
      await waitFor(() => conn.statuses().length >= 1, stage, 1000);
      // A runtime that serves pipelined requests one at a time never starts
      // the third while the second stalls: give it a moment, then go on.
      const stalled = () => [...records.values()].filter((r) => r.stalledAt !== undefined).length;
      await quietly(waitFor(() => stalled() === c.pipeline - 1, "every pipelined stall", 50));
    }
    const watched = [...records.values()].filter((r) => r.stalls);
    for (const r of watched) {
      if (r.scope === undefined) fail(`request ${r.n}: request.scope was never read`);
    }
    const scheduled = c.end === "deadline" || c.end === "handler-timeout" ||
      c.end === "close-shutdown-timeout";
    if (!scheduled) {
      for (const r of watched) {
        if (r.abortAt !== undefined) {
          fail(
            `request ${r.n}: aborted before the event (${describeReason(r.scope?.abortReason)})`,
          );
        }
      }
    }

    stage = `ending the request (${c.end})`;
    let eventAt = performance.now();
    // No abort may come before this (a deadline's timer starts after sentAt;
    // its event, for the latency, is taken at the request's arrival).
    let earliest: number | undefined;
    switch (c.end) {
      case "client-leaves":
      case "socket-dies":
        conn.leave("socket");
        break;
      case "stream-reset":
        conn.leave("stream");
        break;
      case "session-destroyed":
        conn.leave("session");
        break;
      case "hijack-client-leaves":
        conn.leave(c.protocol === "h2" ? "stream" : "socket");
        break;
      case "deadline":
      case "handler-timeout":
        // Both count from the request's arrival (Fastify's timer starts just
        // before the first onRequest hook, a route deadline's scope just after).
        earliest = sentAt + DEADLINE_MS;
        eventAt = (records.get(1)?.arrivedAt ?? sentAt) + DEADLINE_MS;
        break;
      case "close-forced":
        closing = app.close();
        break;
      case "close-shutdown-timeout":
        closing = app.close();
        eventAt += DEADLINE_MS;
        break;
      case "close-default": {
        closing = app.close();
        await sleep(DEADLINE_MS + 30);
        for (const r of watched) {
          if (r.abortAt !== undefined) {
            fail(
              `request ${r.n}: aborted ${
                (r.abortAt - eventAt).toFixed(1)
              } ms after app.close() started, before its work completed (${
                describeReason(r.scope?.abortReason)
              })`,
            );
          }
        }
        eventAt = performance.now();
        gate.resolve();
        break;
      }
      case "handler-throws":
      case "hijack-ends":
        gate.resolve();
        break;
    }

    stage = "waiting for the scope to abort";
    const waitMs = Math.max(0, eventAt - performance.now()) + 5 * MAX_LATENCY_MS;
    const aborted = () => watched.every((r) => r.abortAt !== undefined);
    await quietly(waitFor(aborted, stage, waitMs));
    const cause = c.end === "handler-timeout" ? "FST_ERR_HANDLER_TIMEOUT" : undefined;
    for (const r of watched) {
      const latency = checkAbort(c, r, [earliest ?? eventAt, eventAt], cause, fail, observed);
      if (latency !== undefined) latencies.push(latency);
    }

    stage = "checking the response";
    if (c.end === "handler-timeout") await expectStatus(conn, 503, fail);
    if (c.end === "handler-throws" || c.end === "close-default") {
      await expectStatus(conn, completedStatus(c), fail);
    }
    if (c.end === "hijack-ends") {
      await quietly(waitFor(() => conn.text().includes("done"), "the hijacked body", 500));
      if (!conn.text().includes("done")) fail("the hijacked response's last chunk never arrived");
    }

    stage = "finishing the request";
    gate.resolve();
    await quietly(waitFor(() => conn.finished(), "the response's end", 500));

    stage = "checking that no scope is left";
    const scopes = [...records.values()].map((r) => r.scope).filter((s) => s !== undefined);
    await quietly(waitFor(() => scopes.every((s) => s.isDisposed), "every scope disposed", 300));
    for (const r of records.values()) {
      if (r.scope !== undefined && !r.scope.isDisposed) {
        fail(`request ${r.n}: its scope is not disposed after the request ended`);
      }
    }
    if (c.pipeline > 1) {
      const first = records.get(1);
      const reason = first?.scope?.abortReason;
      const wrong = wrongReason(reason, "normal");
      if (wrong !== undefined) fail(`request 1 (completed before the socket died): ${wrong}`);
    }
    await checkChildren(app, fail);
  } catch (error) {
    fail(`${stage}: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    probe?.gate.resolve();
    client?.destroy();
    if (probe !== undefined) {
      const closed = await within(closing ?? probe.app.close(), 2000);
      if (closed === "timeout") fail("app.close() did not finish within 2 s");
      for (const record of probe.logs) {
        if (/go-go-scope/.test(record.msg ?? "")) fail(`the plugin logged: ${record.msg}`);
      }
    }
  }
  return { failures, observed, latencies };
}

/**
 * Checks one stalled request's abort: its reason, that it came no earlier
 * than `earliest` and within MAX_LATENCY_MS of `eventAt`. Returns the latency.
 */
function checkAbort(
  c: MatrixCase,
  r: RequestRecord,
  [earliest, eventAt]: [number, number],
  cause: string | undefined,
  fail: (message: string) => void,
  observed: string[],
): number | undefined {
  const s: Scope | undefined = r.scope;
  if (s === undefined) return undefined;
  // A hijacked handler ends its response after the gate opens.
  const ended = c.end === "hijack-ends" ? r.endedAt : undefined;
  const [from, event] = ended === undefined ? [earliest, eventAt] : [ended, ended];
  const reasonText = describeReason(s.abortReason);
  if (r.abortAt === undefined) {
    observed.push(`request ${r.n}: not aborted (${reasonText})`);
    fail(
      `request ${r.n}: the scope's signal did not abort within ${
        5 * MAX_LATENCY_MS
      } ms of the event`,
    );
  } else {
    const latency = r.abortAt - event;
    observed.push(`request ${r.n}: ${reasonText} after ${latency.toFixed(1)} ms`);
    // A timer may fire up to a millisecond early against performance.now().
    if (r.abortAt < from - 1) {
      fail(`request ${r.n}: aborted ${(from - r.abortAt).toFixed(1)} ms BEFORE the event`);
    }
    if (latency > MAX_LATENCY_MS) {
      fail(
        `request ${r.n}: aborted ${latency.toFixed(1)} ms after the event (> ${MAX_LATENCY_MS})`,
      );
    }
  }
  const wrong = wrongReason(s.abortReason, c.expected, cause);
  if (wrong !== undefined) fail(`request ${r.n}: ${wrong}`);
  return r.abortAt === undefined ? undefined : r.abortAt - event;
}

async function expectStatus(
  conn: MatrixClient,
  status: number,
  fail: (message: string) => void,
): Promise<void> {
  await quietly(waitFor(() => conn.statuses().length > 0, `status ${status}`, 500));
  const got = conn.statuses();
  if (!got.includes(status)) {
    fail(`the client got status ${got.join(",") || "none"}, expected ${status}`);
  }
}

async function checkChildren(app: FastifyInstance, fail: (message: string) => void): Promise<void> {
  await quietly(waitFor(() => app.scope.childCount === 0, "no request scope left", 300));
  if (app.scope.childCount !== 0) {
    fail(`app.scope.childCount is ${app.scope.childCount}, expected 0`);
  }
}

/** Whether every failure of `result` is an abort later than MAX_LATENCY_MS (and nothing else). */
function onlyLate(result: CaseResult): boolean {
  return result.failures.length > 0 && result.failures.every((f) => LATE.test(f));
}
const LATE = /ms after the event \(> \d+\)$/;

/** Runs of a case whose only failure is lateness: the first and up to two reruns. */
const RUNS = 3;

/**
 * Runs `cases` with `run` (runCase, or another kind of case), at most
 * `concurrency` at a time; results by case name. A case whose only failures
 * are late aborts is run again (up to twice): on a loaded machine the whole
 * process can be descheduled for longer than the budget (every case running
 * at that moment is then late by the same amount), while a plugin that is
 * late is late on every run. The reruns are listed in the result's
 * `observed`.
 */
export async function runCases<C extends { readonly name: string }>(
  cases: readonly C[],
  concurrency: number,
  run: (c: C) => Promise<CaseResult>,
): Promise<Map<string, CaseResult>> {
  const results = new Map<string, CaseResult>();
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      let result = await run(c);
      const late: string[] = [];
      for (let attempt = 2; attempt <= RUNS && onlyLate(result); attempt++) {
        late.push(result.failures.join("; "));
        result = await run(c);
      }
      if (late.length > 0) {
        result.observed.push(`rerun ${late.length} time(s) after: ${late.join(" | ")}`);
      }
      results.set(c.name, result);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}
