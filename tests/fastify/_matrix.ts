// The lifecycle matrix's table: where a request first reads `request.scope`,
// where it is stalled when it ends, how it ends and over which protocol, and
// the abort reason each valid combination must give the scope.
import { ClientDisconnectedError, ServerClosingError, TimeoutError } from "../../src/core/mod.ts";

/** Where `request.scope` is first read (every phase Fastify runs user code in). */
export const READ_PHASES = [
  "onRequest",
  "preParsing",
  "preValidation",
  "preHandler",
  "handler",
  "onError",
  "notFound",
  "onSend",
] as const;

/** A phase of the request's lifecycle in which the test can read the scope or stall. */
export type Phase = typeof READ_PHASES[number];

/** The phases a request that reaches its route's handler goes through, in order. */
const MAIN_PATH: readonly Phase[] = ["onRequest", "preParsing", "preValidation", "preHandler"];

/**
 * Where a request that read its scope in `read` can be stalled when it ends:
 * any phase at or after the read in which a hook or handler can await. The
 * not-found handler is reached instead of the route's handler; onError only
 * when the handler throws.
 */
export function stallPhases(read: Phase): Phase[] {
  if (read === "onError" || read === "onSend") return [read];
  if (read === "notFound") return ["notFound", "onSend"];
  const path = [...MAIN_PATH, "handler"] as Phase[];
  return [...path.slice(path.indexOf(read)), "onError", "onSend"];
}

/** The client and connection a case uses. */
export type Protocol = "h1" | "h1-pipelined" | "h2";

/** How the request ends. */
export type End =
  | "client-leaves"
  | "stream-reset"
  | "session-destroyed"
  | "socket-dies"
  | "deadline"
  | "handler-timeout"
  | "close-forced"
  | "close-shutdown-timeout"
  | "close-default"
  | "handler-throws"
  | "hijack-ends"
  | "hijack-client-leaves";

/** What the scope's abort reason must be: an error class, or a normal end (disposal). */
export type Expected =
  | typeof ClientDisconnectedError
  | typeof TimeoutError
  | typeof ServerClosingError
  | "normal";

/** One case of the matrix. */
export interface MatrixCase {
  /** Names the case exactly, so a failure says which. */
  readonly name: string;
  readonly protocol: Protocol;
  readonly end: End;
  readonly read: Phase;
  readonly stall: Phase;
  /** Where a deadline comes from: the plugin's option or the route (Fastify's for handler-timeout). */
  readonly source: "plugin" | "route" | "server" | undefined;
  /** Pipelined requests on the socket (the first completes, the others stall). */
  readonly pipeline: number;
  readonly expected: Expected;
}

/** One kind of end: where it exists and the reason it must give. */
interface EndSpec {
  readonly end: End;
  readonly protocols: readonly Protocol[];
  readonly expected: Expected;
  /** Whether the combination exists. */
  readonly valid: (read: Phase, stall: Phase) => boolean;
}

const ANY = (): boolean => true;
/** A stall the handler itself makes (the phases up to the handler, for hijack and throw). */
const IN_HANDLER = (read: Phase, stall: Phase): boolean =>
  stall === "handler" && read !== "onError" && read !== "notFound" && read !== "onSend";

/** The kinds of end, the protocols they exist on and the reason they give. */
export const ENDS: readonly EndSpec[] = [
  { end: "client-leaves", protocols: ["h1"], expected: ClientDisconnectedError, valid: ANY },
  { end: "stream-reset", protocols: ["h2"], expected: ClientDisconnectedError, valid: ANY },
  { end: "session-destroyed", protocols: ["h2"], expected: ClientDisconnectedError, valid: ANY },
  {
    end: "socket-dies",
    protocols: ["h1-pipelined"],
    expected: ClientDisconnectedError,
    valid: ANY,
  },
  { end: "deadline", protocols: ["h1", "h2"], expected: TimeoutError, valid: ANY },
  // Fastify's handlerTimeout replies 503 unless the reply is being sent: a
  // stall in onSend is past it, and a stall in onError would make Fastify
  // call reply.send() inside onError (FST_ERR_SEND_INSIDE_ONERR, thrown
  // from its timer).
  {
    end: "handler-timeout",
    protocols: ["h1", "h2"],
    expected: TimeoutError,
    valid: (_read, stall) => stall !== "onSend" && stall !== "onError",
  },
  { end: "close-forced", protocols: ["h1", "h2"], expected: ServerClosingError, valid: ANY },
  {
    end: "close-shutdown-timeout",
    protocols: ["h1", "h2"],
    expected: ServerClosingError,
    valid: ANY,
  },
  { end: "close-default", protocols: ["h1", "h2"], expected: "normal", valid: ANY },
  { end: "handler-throws", protocols: ["h1", "h2"], expected: "normal", valid: IN_HANDLER },
  { end: "hijack-ends", protocols: ["h1", "h2"], expected: "normal", valid: IN_HANDLER },
  {
    end: "hijack-client-leaves",
    protocols: ["h1", "h2"],
    expected: ClientDisconnectedError,
    valid: IN_HANDLER,
  },
];

/** Whether the request goes through the error path (the handler throws). */
export function throws(c: Pick<MatrixCase, "read" | "stall" | "end">): boolean {
  return c.read === "onError" || c.stall === "onError" || c.end === "handler-throws";
}

/** Every valid case for `protocol` and `end`, in table order, named. */
export function matrixCases(protocol: Protocol, end: End): MatrixCase[] {
  const spec = ENDS.find((s) => s.end === end);
  if (spec === undefined || !spec.protocols.includes(protocol)) return [];
  const cases: MatrixCase[] = [];
  for (const read of READ_PHASES) {
    for (const stall of stallPhases(read)) {
      if (!spec.valid(read, stall)) continue;
      for (const pipeline of protocol === "h1-pipelined" ? [2, 3] : [1]) {
        // Deadlines alternate between their two sources; the not-found
        // handler has no route options, so it always uses the plugin-wide one.
        let source: MatrixCase["source"];
        if (end === "deadline" || end === "handler-timeout") {
          const routeSide = cases.length % 2 === 1 && read !== "notFound";
          if (end === "deadline") source = routeSide ? "route" : "plugin";
          else source = routeSide ? "route" : "server";
        }
        const where = pipeline > 1 ? ` | ${pipeline} pipelined` : "";
        const from = source === undefined ? "" : ` (${source})`;
        cases.push({
          name: `${protocol} | ${end}${from} | read in ${read} | stalled in ${stall}${where}`,
          protocol,
          end,
          read,
          stall,
          source,
          pipeline,
          expected: spec.expected,
        });
      }
    }
  }
  return cases;
}

/** Every (protocol, end) column of the matrix that has cases. */
export function columns(protocols: readonly Protocol[]): { protocol: Protocol; end: End }[] {
  return protocols.flatMap((protocol) =>
    ENDS.filter((s) => s.protocols.includes(protocol)).map((s) => ({ protocol, end: s.end }))
  );
}
