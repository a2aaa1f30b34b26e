// Waiting for a condition instead of sleeping a fixed time, so timer-driven
// tests hold on a loaded machine.

/** Resolves once `condition()` is true, checking every 5 ms; rejects after `ms`. */
export async function waitFor(condition: () => boolean, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > end) throw new Error(`waitFor: still false after ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
