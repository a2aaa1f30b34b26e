/**
 * Makes sure the MariaDB test (tests/interop/mysql_adapter_test.ts, go-go-scope's MySQL adapter on
 * a real server) can start its own `mariadbd`: finds Debian's `/usr/sbin/mariadbd`, or installs
 * the `mariadb-server` package as root (see `_system_deps.ts`). Debian's package may start a system
 * server after installing; this script stops it again, since the test starts its own on a free
 * port with a temporary datadir. When MariaDB cannot be had, it prints `SKIPPED: <reason>` (the
 * test then skips itself) and exits 0.
 *
 * @module
 */
import { ensureTool } from "./_system_deps.ts";

const mariadb = await ensureTool({
  label: "mariadbd",
  path: "/usr/sbin/mariadbd",
  debianPackage: "mariadb-server",
});
if (!mariadb.ok) {
  console.log(`SKIPPED: the MariaDB test: ${mariadb.reason}`);
} else {
  if (mariadb.installed) {
    // The package's service is not ours: stop it (the test uses its own server on a free port).
    await new Deno.Command("service", {
      args: ["mariadb", "stop"],
      stdout: "null",
      stderr: "null",
    })
      .output().catch(() => undefined);
  }
  console.log(`mariadbd: ${mariadb.path}${mariadb.installed ? " (installed now)" : ""}`);
}
