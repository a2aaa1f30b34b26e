// Stops a child process a test started, on Deno and on Node alike, and never waits for ever:
// a signal, then SIGKILL after a grace period, then give up waiting. Deno's node:child_process
// ignores a second `child.kill()` (it returns at once once `killed` is set), so every signal is
// sent with `process.kill(pid, signal)`, which both runtimes deliver each time.
import type { ChildProcess } from "node:child_process";
import process from "node:process";

/** Settles when `child` has exited (or failed to spawn). Call it right after `spawn()`. */
export function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve());
  });
}

/** Whether `promise` settles within `ms` milliseconds (the timer is cleared either way). */
function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  return Promise.race([promise.then(() => true), late]).finally(() => clearTimeout(timer));
}

function send(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/** How {@linkcode stopChild} stops a process. */
export interface StopOptions {
  /** The first signal. @default "SIGTERM" */
  signal?: NodeJS.Signals;
  /** How long the first signal gets before SIGKILL, in ms. @default 2000 */
  graceMs?: number;
  /** How long to wait after SIGKILL before giving up (and saying so), in ms. @default 5000 */
  giveUpMs?: number;
}

/**
 * Stops `child`: `signal`, then SIGKILL after `graceMs`, then stops waiting after `giveUpMs`.
 * `exited` is {@linkcode exitOf} of the child, taken when it was spawned.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  { signal = "SIGTERM", graceMs = 2_000, giveUpMs = 5_000 }: StopOptions = {},
): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || await within(exited, 0)) return;
  if (signal !== "SIGKILL") {
    send(pid, signal);
    if (await within(exited, graceMs)) return;
  }
  send(pid, "SIGKILL");
  if (!await within(exited, giveUpMs)) {
    console.error(`process ${pid} did not exit ${giveUpMs} ms after SIGKILL; not waiting for it`);
  }
}
