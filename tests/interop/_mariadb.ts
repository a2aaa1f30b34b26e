// Starts a throwaway MariaDB server for tests: Debian's mariadbd on a fresh
// datadir in the system's temp dir (initialised by mariadb-install-db),
// listening on 127.0.0.1 and a free port, root without a password. Always
// stopped: SIGTERM, then SIGKILL after a short wait, and the datadir removed.
// `mariadbSkip` says why the tests that need it are skipped.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

function find(env: string | undefined, names: string[]): string | undefined {
  if (env) return existsSync(env) ? env : undefined;
  for (const name of names) {
    if (name.startsWith("/")) {
      if (existsSync(name)) return name;
    } else if (spawnSync(name, ["--version"], { encoding: "utf8" }).status === 0) return name;
  }
  return undefined;
}

const SERVER = find(process.env.MARIADBD, [
  "mariadbd",
  "/usr/sbin/mariadbd",
  "/usr/sbin/mysqld",
]);
const INSTALL_DB = find(process.env.MARIADB_INSTALL_DB, [
  "mariadb-install-db",
  "/usr/bin/mariadb-install-db",
  "/usr/bin/mysql_install_db",
]);

/** Why the MariaDB tests are skipped, or `false` when a server can be started here. */
export const mariadbSkip: string | false = SERVER === undefined || INSTALL_DB === undefined
  ? "mariadbd is not installed (apt-get install -y mariadb-server)"
  : false;

/** `--user=root` where the server would otherwise refuse to run as root. */
const AS_ROOT = spawnSync("id", ["-u"], { encoding: "utf8" }).stdout?.trim() === "0"
  ? ["--user=root"]
  : [];

/** A free TCP port on 127.0.0.1. */
function freePort(): Promise<number> {
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

/** Resolves when `child` exits, or after `ms` (never waits longer). */
function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", done);
      resolve(false);
    }, ms);
    function done() {
      clearTimeout(timer);
      resolve(true);
    }
    child.once("exit", done);
  });
}

/** A running MariaDB server. */
export class MariaDb {
  readonly #child: ChildProcess;
  /** Its TCP port on 127.0.0.1. */
  readonly port: number;
  /** Its datadir (removed by `stop()`). */
  readonly dir: string;

  private constructor(child: ChildProcess, port: number, dir: string) {
    this.#child = child;
    this.port = port;
    this.dir = dir;
  }

  /** Initialises a datadir and starts the server; resolves once it accepts connections. */
  static async start(): Promise<MariaDb> {
    if (mariadbSkip !== false) throw new Error(mariadbSkip);
    const dir = join(tmpdir(), `ggs-mariadb-${process.pid}-${Date.now().toString(36)}`);
    const init = spawnSync(INSTALL_DB!, [
      "--no-defaults",
      `--datadir=${dir}`,
      "--auth-root-authentication-method=normal",
      "--skip-test-db",
      ...AS_ROOT,
    ], { encoding: "utf8", timeout: 120_000 });
    if (init.status !== 0) {
      spawnSync("rm", ["-rf", dir]);
      throw new Error(`mariadb-install-db failed: ${init.stderr || init.stdout || init.error}`);
    }
    const port = await freePort();
    const child = spawn(SERVER!, [
      "--no-defaults",
      `--datadir=${dir}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      `--socket=${join(dir, "mysqld.sock")}`,
      `--pid-file=${join(dir, "mysqld.pid")}`,
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=32M",
      "--innodb-use-native-aio=0",
      "--innodb-flush-log-at-trx-commit=2",
      ...AS_ROOT,
    ], { stdio: ["ignore", "ignore", "pipe"] });
    const server = new MariaDb(child, port, dir);
    try {
      await new Promise<void>((resolve, reject) => {
        let log = "";
        const timer = setTimeout(
          () => reject(new Error(`mariadbd did not start in 60 s: ${log.slice(-500)}`)),
          60_000,
        );
        const onData = (chunk: Buffer) => {
          log += chunk.toString();
          if (log.includes("ready for connections")) {
            clearTimeout(timer);
            child.stderr!.off("data", onData);
            child.stderr!.resume();
            resolve();
          }
        };
        child.stderr!.on("data", onData);
        child.once("exit", (code) => {
          clearTimeout(timer);
          reject(new Error(`mariadbd exited (${code}): ${log.slice(-500)}`));
        });
      });
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  /** Stops the server (SIGTERM, then SIGKILL) and removes its datadir. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      if (!(await exited(child, 10_000))) {
        child.kill("SIGKILL");
        await exited(child, 2_000);
      }
    }
    spawnSync("rm", ["-rf", this.dir]);
  }
}
