// Starts a throwaway redis-server for tests: 127.0.0.1, a free port, no
// persistence to disk. `undefined` when redis-server is not installed (the
// tests that need it are then skipped with that reason).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import { exitOf, stopChild } from "./_child.ts";

const BIN = process.env.REDIS_SERVER ?? "redis-server";

/** Why Redis tests are skipped, or `false` when redis-server can run here. */
export const redisSkip: string | false = (() => {
  const probe = spawnSync(BIN, ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? false : `${BIN} is not installed (apt-get install -y redis-server)`;
})();

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** How long redis-server gets to say it is ready. */
const START_TIMEOUT_MS = 10_000;

/** A running redis-server. */
export class RedisServer {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again, on the same port, after `stop()`). */
  async start(): Promise<void> {
    const child = spawn(
      BIN,
      ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child = child;
    this.#exited = exitOf(child);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let out = "";
        const onData = (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes("Ready to accept connections")) {
            child.stdout!.off("data", onData);
            child.stdout!.resume();
            resolve();
          }
        };
        child.stdout!.on("data", onData);
        child.stderr!.resume();
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
        timer = setTimeout(
          () => reject(new Error(`redis-server not ready within ${START_TIMEOUT_MS} ms: ${out}`)),
          START_TIMEOUT_MS,
        );
      });
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stops the server (SIGKILL: no shutdown work) and waits for it to exit, within bounds. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child === undefined) return;
    await stopChild(child, this.#exited, { signal: "SIGKILL" });
  }

  /** A new client of this server (close it with `quit()`). */
  client(options: { lazyConnect?: boolean; maxRetriesPerRequest?: number | null } = {}): Redis {
    const client = new Redis(this.port, "127.0.0.1", {
      maxRetriesPerRequest: 1,
      retryStrategy: (times: number) => Math.min(times * 20, 200),
      ...options,
    });
    client.on("error", () => {}); // reported by the calls that fail
    return client;
  }
}

/**
 * Closes clients of a server, each within a second: `quit()`, else `disconnect()` (a `quit()` on a
 * stopped server would wait for a reconnection).
 */
export async function closeClients(clients: Redis[]): Promise<void> {
  await Promise.all(clients.map(async (client) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 1_000);
    });
    await Promise.race([client.quit().catch(() => {}), late]);
    clearTimeout(timer);
    client.disconnect();
  }));
}

/** Starts a server on a free port. */
export async function startRedis(): Promise<RedisServer> {
  const server = new RedisServer(await freePort());
  await server.start();
  return server;
}
