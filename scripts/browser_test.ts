/**
 * `deno task test:browser`: runs the real-browser tests (tests/browser/) in headless Chromium,
 * driven by playwright-core.
 *
 * Chromium comes from Debian (`apt-get install -y chromium`): playwright's own browser downloads
 * are not used. When /usr/bin/chromium is missing, this script installs it if it runs as root with
 * apt-get (see `_system_deps.ts`); otherwise the check is reported as SKIPPED with the reason, and
 * the script exits 0. Set CHROMIUM=/path/to/chromium to use another build.
 *
 * Ends with a `N passed, N failed` line (`..., 1 skipped` when skipped).
 *
 * @module
 */
import { ensureTool } from "./_system_deps.ts";

const custom = Deno.env.get("CHROMIUM");
const chromium = await ensureTool({
  label: "Chromium",
  path: custom ?? "/usr/bin/chromium",
  debianPackage: "chromium",
});
if (!chromium.ok) {
  console.log(`SKIPPED: the browser check: ${chromium.reason}`);
  console.log("0 passed, 0 failed, 1 skipped");
  Deno.exit(0);
}

const child = new Deno.Command(Deno.execPath(), {
  args: [
    "test",
    "--config",
    "deno.dev.json",
    // playwright-core probes the system (/proc, env, temp files) and spawns Chromium.
    "--allow-all",
    "tests/browser/sse_browser.ts",
    "tests/browser/chat_browser.ts",
    "tests/browser/inspector_browser.ts",
  ],
  env: { CHROMIUM: chromium.path },
  stdout: "piped",
  stderr: "inherit",
}).spawn();
// The browser tests take seconds; a run that hangs is killed, and counts as failed.
const TIMEOUT_MS = 5 * 60_000;
const timer = setTimeout(() => {
  console.error(`✖ the browser tests ran for over ${TIMEOUT_MS / 60_000} minutes: killed`);
  try {
    child.kill("SIGKILL");
  } catch { /* already gone */ }
}, TIMEOUT_MS);
let output = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  output += decoder.decode(chunk, { stream: true });
  await Deno.stdout.write(chunk);
}
const { code } = await child.status;
clearTimeout(timer);

// Deno's summary reads `ok | 1 passed (2 steps) | 0 failed (1s)`: node:test's describe() is a
// test and its it()s are steps. Print the plain form, counting the steps when there are some.
// deno-lint-ignore no-control-regex
const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
const summary = /(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/.exec(
  plain,
);
if (summary) {
  console.log(`${summary[2] ?? summary[1]} passed, ${summary[4] ?? summary[3]} failed`);
} else {
  console.log("0 passed, 1 failed");
}
Deno.exit(code);
