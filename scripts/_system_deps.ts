/**
 * System tools that some checks need (Chromium for the browser test, redis-server and mariadbd
 * for the Redis and MariaDB tests): found on the machine, installed from Debian's packages where
 * that is possible (running as root with `apt-get`), or reported as missing with the reason, so
 * that the check is SKIPPED, never failed.
 *
 * Set `GGS_NO_INSTALL=1` to never install anything.
 *
 * @module
 */

/** What {@linkcode ensureTool} found. */
export type ToolResult =
  | { readonly ok: true; readonly path: string; readonly installed: boolean }
  | { readonly ok: false; readonly reason: string };

/** A tool some check needs. */
export interface Tool {
  /** What the log calls it ("Chromium"). */
  readonly label: string;
  /** Where the binary is expected (`/usr/bin/chromium`). */
  readonly path: string;
  /** The Debian package that provides it (`chromium`). */
  readonly debianPackage: string;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function isRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

/** Finds `tool`, installing its Debian package as root when it is missing. */
export async function ensureTool(tool: Tool): Promise<ToolResult> {
  if (exists(tool.path)) return { ok: true, path: tool.path, installed: false };
  const manual = `install it with: sudo apt-get install -y ${tool.debianPackage}`;
  if (Deno.env.get("GGS_NO_INSTALL") === "1") {
    return {
      ok: false,
      reason: `${tool.label} not found at ${tool.path} (GGS_NO_INSTALL=1); ${manual}`,
    };
  }
  if (!isRoot() || !exists("/usr/bin/apt-get")) {
    return {
      ok: false,
      reason:
        `${tool.label} not found at ${tool.path}, and this is not a root shell with apt-get; ${manual}`,
    };
  }
  console.log(
    `Installing Debian's ${tool.debianPackage} (apt-get update && apt-get install -y)...`,
  );
  const env = { ...Deno.env.toObject(), DEBIAN_FRONTEND: "noninteractive" };
  for (
    const args of [["update"], ["install", "-y", "--no-install-recommends", tool.debianPackage]]
  ) {
    const out = await new Deno.Command("apt-get", {
      args,
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      const stderr = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-2).join(" ");
      return {
        ok: false,
        reason: `apt-get ${args.join(" ")} failed (exit ${out.code}): ${stderr}; ${manual}`,
      };
    }
  }
  if (!exists(tool.path)) {
    return { ok: false, reason: `${tool.debianPackage} was installed but ${tool.path} is missing` };
  }
  return { ok: true, path: tool.path, installed: true };
}
