/**
 * Makes sure the Redis tests (tests/redis/) can start their own `redis-server`: finds Debian's
 * `/usr/bin/redis-server`, or installs the `redis-server` package as root (see
 * `_system_deps.ts`). Debian's package starts a system Redis on port 6379 after installing; this
 * script stops it again, since the tests start their own servers on free ports. When Redis
 * cannot be had, it prints `SKIPPED: <reason>` (the Redis tests then skip themselves) and exits 0.
 *
 * @module
 */
import { ensureTool } from "./_system_deps.ts";

const redis = await ensureTool({
  label: "redis-server",
  path: "/usr/bin/redis-server",
  debianPackage: "redis-server",
});
if (!redis.ok) {
  console.log(`SKIPPED: the Redis tests: ${redis.reason}`);
} else {
  if (redis.installed) {
    // The package's service is not ours: stop it (tests use their own servers on free ports).
    await new Deno.Command("service", {
      args: ["redis-server", "stop"],
      stdout: "null",
      stderr: "null",
    })
      .output().catch(() => undefined);
  }
  console.log(`redis-server: ${redis.path}${redis.installed ? " (installed now)" : ""}`);
}
