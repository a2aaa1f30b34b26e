// The live inspector: records the running requests and tasks (an
// observability feature of the plugin), serves the page at `path` and a
// server-sent-events stream of JSON snapshots at `path/events`, throttled
// and computed only while someone watches; loopback clients only unless
// `authorize` says otherwise. Never re-exported by mod.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Scope } from "../../core/mod.ts";
import {
  childrenOf,
  type InstrumentedOptions,
  type InstrumentedScope,
  type InstrumentedTask,
  type TaskInstrument,
  type TaskProbe,
} from "../../core/internal.ts";
import type { Feature, ObservedView, RequestWatcher } from "../_observe.ts";
import type { InspectorOptions } from "../options.ts";
import { inspectorPage } from "./page.ts";

/** At most this many snapshots a second reach each watcher. */
const MAX_PER_SECOND = 4;
/** A snapshot is sent at least this often while watched, even when nothing changed. */
const HEARTBEAT_MS = 5_000;
/** At most this many requests in one snapshot (the rest are counted). */
const MAX_REQUESTS = 200;

/** A task as the page shows it. */
export interface TaskView {
  readonly id: number;
  readonly name: string;
  /** `waiting` for a concurrency slot, or `running`. */
  readonly state: "waiting" | "running";
  readonly startedAt: number;
  readonly retries: number;
}

/** A scope as the page shows it: its tasks and child scopes. */
export interface ScopeView {
  readonly name: string;
  readonly aborted: boolean;
  readonly tasks: TaskView[];
  readonly children: ScopeView[];
}

/** A running request as the page shows it. */
export interface RequestView {
  readonly id: string;
  readonly method: string;
  readonly route: string | null;
  readonly path: string;
  readonly startedAt: number;
  /** When the request scope's deadline passes (`Date.now()` time), or `null`. */
  readonly deadlineAt: number | null;
  readonly scope: ScopeView;
}

/** What `path/events` sends, as the `snapshot` event's JSON. */
export interface Snapshot {
  readonly now: number;
  readonly root: ScopeView;
  readonly requests: RequestView[];
  /** Requests not listed (over the limit). */
  readonly omitted: number;
}

/** One task, from start to end. */
class TaskRecord implements TaskProbe {
  readonly id: number;
  readonly name: string;
  readonly scope: InstrumentedScope;
  readonly startedAt = Date.now();
  running = false;
  retries = 0;
  readonly #tasks: Set<TaskRecord>;
  readonly #inspector: Inspector;

  constructor(
    task: InstrumentedTask,
    scope: InstrumentedScope,
    tasks: Set<TaskRecord>,
    inspector: Inspector,
  ) {
    this.id = task.id;
    this.name = task.name;
    this.scope = scope;
    this.#tasks = tasks;
    this.#inspector = inspector;
    tasks.add(this);
    inspector.changed();
  }
  run<A, R>(fn: (arg: A) => R, arg: A): R {
    if (!this.running) {
      this.running = true;
      this.#inspector.changed();
    }
    return fn(arg);
  }
  retry(): void {
    this.retries++;
    this.#inspector.changed();
  }
  end(): void {
    this.#tasks.delete(this);
    this.#inspector.changed();
  }
  view(): TaskView {
    return {
      id: this.id,
      name: this.name,
      state: this.running ? "running" : "waiting",
      startedAt: this.startedAt,
      retries: this.retries,
    };
  }
}

/** The scope tree under `scope`, with the tasks recorded for each scope. */
function scopeView(
  scope: Scope,
  tasks: ReadonlySet<TaskRecord>,
  skip: { has(scope: Scope): boolean } | undefined,
): ScopeView {
  const byScope = new Map<InstrumentedScope, TaskView[]>();
  for (const task of tasks) {
    const list = byScope.get(task.scope);
    if (list === undefined) byScope.set(task.scope, [task.view()]);
    else list.push(task.view());
  }
  const walk = (s: Scope): ScopeView => ({
    name: s.name,
    aborted: s.isAborted,
    tasks: byScope.get(s) ?? [],
    children: childrenOf(s).filter((c) => skip === undefined || !skip.has(c)).map(walk),
  });
  return walk(scope);
}

/** One request, while it runs. */
class InspectedRequest implements RequestWatcher {
  readonly view: ObservedView;
  readonly tasks: Set<TaskRecord> = new Set();
  readonly #inspector: Inspector;
  constructor(view: ObservedView, inspector: Inspector) {
    this.view = view;
    this.#inspector = inspector;
  }
  start(task: InstrumentedTask, scope: InstrumentedScope): TaskProbe {
    return new TaskRecord(task, scope, this.tasks, this.#inspector);
  }
  end(): void {
    this.#inspector.ended(this);
  }
  snapshot(): RequestView {
    const view = this.view;
    return {
      id: view.request.id,
      method: view.method,
      route: view.route ?? null,
      path: view.path,
      startedAt: view.startedAt,
      deadlineAt: view.deadline === undefined ? null : view.startedAt + view.deadline,
      scope: scopeView(view.scope, this.tasks, undefined),
    };
  }
}

/** The response side of one watcher of `path/events`. */
interface EventStream {
  write(chunk: string): unknown;
  end(): unknown;
  on(event: "close", listener: () => void): unknown;
}

const LOOPBACK = /^(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

/** Whether `request` comes from this machine (`request.ip`: the socket's, or the proxy's client). */
export function isLoopback(request: FastifyRequest): boolean {
  return LOOPBACK.test(request.ip);
}

/** The inspector feature and its two routes. */
export class Inspector implements Feature {
  readonly root: TaskInstrument;
  readonly #rootScope: Scope;
  readonly #rootTasks = new Set<TaskRecord>();
  readonly #requests = new Set<InspectedRequest>();
  readonly #streams = new Set<EventStream>();
  readonly #hidden = new WeakSet<Scope>();
  readonly #authorize: (request: FastifyRequest) => boolean | Promise<boolean>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #dirty = true;
  #lastSent = 0;

  constructor(options: InspectorOptions, fastify: FastifyInstance, root: Scope) {
    this.#rootScope = root;
    this.#authorize = options.authorize ?? isLoopback;
    this.root = {
      start: (task, scope, _fn, _options?: InstrumentedOptions) =>
        new TaskRecord(task, scope, this.#rootTasks, this),
    };
    const events = options.path + "/events";
    // The inspector's own requests are never observed (see startObservation).
    const config = { scope: { timeout: false as const } };
    fastify.get(options.path, { config }, async (request, reply) => {
      if (!(await this.#allowed(request, reply))) return reply;
      const nonce = crypto.randomUUID().replaceAll("-", "");
      return reply
        .header("cache-control", "no-store")
        .header(
          "content-security-policy",
          `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; ` +
            `connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
        )
        .header("x-content-type-options", "nosniff")
        .type("text/html; charset=utf-8")
        .send(inspectorPage(root.name, events, nonce));
    });
    fastify.get(events, { config }, async (request, reply) => {
      if (!(await this.#allowed(request, reply))) return reply;
      this.#watch(reply);
    });
  }

  async #allowed(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
    let allowed = false;
    try {
      allowed = (await this.#authorize(request)) === true;
    } catch (error) {
      request.log.error({ err: error }, "go-go-scope: the inspector's authorize function threw");
    }
    if (!allowed) {
      reply.code(403).header("cache-control", "no-store").type("text/plain; charset=utf-8").send(
        "Forbidden: the go-go-scope inspector serves loopback clients only, unless its " +
          "authorize option allows the request.\n",
      );
    }
    return allowed;
  }

  /** Starts a stream of snapshots on `reply` until its client leaves or the app closes. */
  #watch(reply: FastifyReply): void {
    reply.hijack();
    const raw = reply.raw as unknown as EventStream & {
      writeHead(status: number, headers: Record<string, string>): unknown;
    };
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    });
    raw.write("retry: 2000\n\n");
    this.#streams.add(raw);
    raw.on("close", () => {
      this.#streams.delete(raw);
      if (this.#streams.size === 0) this.#stop();
    });
    raw.write(this.#event());
    this.#timer ??= setInterval(() => this.#tick(), 1000 / MAX_PER_SECOND);
  }

  #tick(): void {
    const now = Date.now();
    if (!this.#dirty && now - this.#lastSent < HEARTBEAT_MS) return;
    const event = this.#event();
    for (const stream of this.#streams) stream.write(event);
  }

  #event(): string {
    this.#dirty = false;
    this.#lastSent = Date.now();
    return `event: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`;
  }

  #stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Something changed: the next tick sends a snapshot (if anyone watches). */
  changed(): void {
    this.#dirty = true;
  }

  /** The live tree now. */
  snapshot(): Snapshot {
    const requests: RequestView[] = [];
    const hidden = this.#hidden;
    const scopes = new Set<Scope>();
    let omitted = 0;
    for (const request of this.#requests) {
      scopes.add(request.view.scope);
      if (requests.length < MAX_REQUESTS) requests.push(request.snapshot());
      else omitted++;
    }
    return {
      now: Date.now(),
      root: scopeView(this.#rootScope, this.#rootTasks, {
        has: (s) => scopes.has(s) || hidden.has(s),
      }),
      requests,
      omitted,
    };
  }

  watch(view: ObservedView): RequestWatcher {
    const request = new InspectedRequest(view, this);
    this.#requests.add(request);
    this.changed();
    return request;
  }

  hide(scope: Scope): void {
    this.#hidden.add(scope);
  }

  /** A request ended. */
  ended(request: InspectedRequest): void {
    this.#requests.delete(request);
    this.changed();
  }

  /** preClose: every stream ends (app.close() then does not wait for them). */
  closing(): void {
    this.#stop();
    for (const stream of this.#streams) stream.end();
    this.#streams.clear();
  }
}

/** The inspector feature, as startObservation builds it. */
export function createInspector(
  options: InspectorOptions,
  fastify: FastifyInstance,
  root: Scope,
): Feature {
  return new Inspector(options, fastify, root);
}
