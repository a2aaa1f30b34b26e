// Shared helpers of the plugin's tests: polling, sleeping, a log collector and
// small node:http clients. node: modules only, so the tests run in Deno and Node.
import http from "node:http";
import process from "node:process";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { sleep } from "../core/_helpers.ts";

export { type Deferred, deferred, sleep, untilAborted } from "../core/_helpers.ts";

/** Polls `predicate` every few milliseconds until it holds, or fails after `timeout` ms. */
export async function waitFor(
  predicate: () => boolean,
  what: string,
  timeout = 2000,
): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > timeout) throw new Error(`Timed out waiting for: ${what}`);
    await sleep(2);
  }
}

/** One record of {@linkcode logCollector}. */
export interface LogRecord {
  level: number;
  msg?: string;
  err?: { message?: string; type?: string; aggregateErrors?: { message?: string }[] };
  [key: string]: unknown;
}

/** A pino stream collecting JSON log lines, for Fastify's `logger: { stream }` option. */
export function logCollector(): { records: LogRecord[]; stream: { write(line: string): void } } {
  const records: LogRecord[] = [];
  return { records, stream: { write: (line: string) => void records.push(JSON.parse(line)) } };
}

/** Listens on 127.0.0.1:0 and returns the port. */
export async function listen(app: FastifyInstance): Promise<number> {
  await app.listen({ host: "127.0.0.1", port: 0 });
  return (app.server.address() as AddressInfo).port;
}

/** A plain node:http response, collected. */
export interface SimpleResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends one request over node:http and collects the response. */
export function request(
  port: number,
  path: string,
  options: { method?: string; body?: string; agent?: http.Agent | false } = {},
): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "GET",
        agent: options.agent ?? false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (options.body !== undefined) {
      req.setHeader("content-type", "application/json");
      req.end(options.body);
    } else {
      req.end();
    }
  });
}

/**
 * Starts a request and destroys it once `until` resolves (the client goes
 * away mid-request). Resolves when the client side has closed.
 */
export function requestAndLeave(
  port: number,
  path: string,
  until: Promise<unknown>,
  options: { method?: string; body?: string; agent?: http.Agent | false } = {},
): Promise<void> {
  return new Promise((resolve) => {
    const req = http.request({
      host: "127.0.0.1",
      port,
      path,
      method: options.method ?? "GET",
      agent: options.agent ?? false,
    });
    req.on("error", () => {}); // ECONNRESET / "socket hang up" are expected
    req.on("close", () => resolve());
    if (options.body !== undefined) {
      req.setHeader("content-type", "application/json");
      req.end(options.body);
    } else {
      req.end();
    }
    until.then(() => req.destroy());
  });
}

/** Unhandled rejections seen on `process` while watching (works in Deno and Node). */
export function watchUnhandledRejections(): { seen: unknown[]; stop(): void } {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => void seen.push(reason);
  process.on("unhandledRejection", listener);
  return { seen, stop: () => void process.off("unhandledRejection", listener) };
}

/** How many referenced timers (`setTimeout`/`setInterval`) are pending right now. */
export function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
}

/** Runs `fn(0) … fn(count - 1)`, at most `size` at a time, and returns the results in order. */
export async function inBatches<T>(
  count: number,
  size: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += size) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + size); i++) batch.push(fn(i));
    results.push(...await Promise.all(batch));
  }
  return results;
}
