/**
 * `deno task test:browser`: runs the real-browser tests (tests/browser/)
 * in headless Chromium, driven by playwright-core.
 *
 * Chromium comes from Debian (`apt-get install -y chromium`): playwright's
 * own browser downloads are not used. When /usr/bin/chromium is missing, this
 * script installs it if CI=true (as root), and otherwise prints how to.
 * Set CHROMIUM=/path/to/chromium to use another build.
 *
 * Ends with a `N passed, N failed` line.
 *
 * @module
 */

const chromium = Deno.env.get("CHROMIUM") ?? "/usr/bin/chromium";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

async function run(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "inherit" }).spawn();
  const decoder = new TextDecoder();
  let output = "";
  for await (const chunk of child.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    output += text;
    await Deno.stdout.write(chunk);
  }
  const { code } = await child.status;
  return { code, output };
}

async function installChromium(): Promise<boolean> {
  console.log("Installing Debian's chromium (apt-get update && apt-get install -y chromium)...");
  const env = { ...Deno.env.toObject(), DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update"], ["install", "-y", "chromium"]]) {
    const { code } = await new Deno.Command("apt-get", { args, env, stdout: "null" }).output();
    if (code !== 0) {
      console.error(`apt-get ${args.join(" ")} failed with exit code ${code}`);
      return false;
    }
  }
  return exists(chromium);
}

if (!exists(chromium)) {
  if (Deno.env.get("CI") === "true" && chromium === "/usr/bin/chromium") {
    if (!await installChromium()) {
      console.log("0 passed, 1 failed");
      Deno.exit(1);
    }
  } else {
    console.error(
      `Chromium not found at ${chromium}. Install Debian's build with\n` +
        "  sudo apt-get update && sudo apt-get install -y chromium\n" +
        "or point CHROMIUM at a Chromium binary, then run `deno task test:browser` again.\n" +
        "(With CI=true this script installs it by itself.)",
    );
    console.log("0 passed, 1 failed");
    Deno.exit(1);
  }
}

const { code, output } = await run(Deno.execPath(), [
  "test",
  // playwright-core probes the system (/proc, env, temp files) and spawns Chromium.
  "--allow-all",
  "tests/browser/sse_browser.ts",
  "tests/browser/chat_browser.ts",
]);

// Deno's summary reads `ok | 1 passed (2 steps) | 0 failed (1s)`: node:test's
// describe() is a test and its it()s are steps. Print the plain form, counting
// the steps when there are some.
// deno-lint-ignore no-control-regex
const plain = output.replace(/\x1b\[[0-9;]*m/g, "");
const summary = /(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?/.exec(
  plain,
);
if (summary) {
  const passed = summary[2] ?? summary[1];
  const failed = summary[4] ?? summary[3];
  console.log(`${passed} passed, ${failed} failed`);
} else {
  console.log("0 passed, 1 failed");
}
Deno.exit(code);
