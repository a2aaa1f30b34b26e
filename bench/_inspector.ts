/**
 * A minimal Chrome DevTools Protocol client for the V8 inspector of a server process started
 * with `--inspect=127.0.0.1:0` (Deno and Node print the WebSocket address on stderr). Used by
 * `deno task bench:http --cpu-prof` to record a CPU profile of the measured window only, in the
 * same `.cpuprofile` format for both runtimes.
 *
 * @module
 */
import { withTimeout } from "./_lib.ts";

interface Pending {
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/** A sampling CPU profiler attached to one process. */
export class CpuProfiler {
  #ws: WebSocket;
  #nextId = 1;
  #pending = new Map<number, Pending>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (event: MessageEvent<string>) => {
      const message = JSON.parse(event.data) as {
        id?: number;
        result?: Record<string, unknown>;
        error?: { message: string };
      };
      if (message.id === undefined) return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error !== undefined) pending?.reject(new Error(message.error.message));
      else pending?.resolve(message.result ?? {});
    };
  }

  /** Connects to the inspector at `url` (ws://...). */
  static async connect(url: string): Promise<CpuProfiler> {
    const ws = new WebSocket(url);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
      }),
      10_000,
      "inspector connect",
    );
    return new CpuProfiler(ws);
  }

  /** Starts sampling every `intervalMicros`. */
  async start(intervalMicros = 100): Promise<void> {
    await this.#send("Profiler.enable");
    await this.#send("Profiler.setSamplingInterval", { interval: intervalMicros });
    await this.#send("Profiler.start");
  }

  /** Stops sampling and returns the profile (the `.cpuprofile` JSON object). */
  async stop(): Promise<unknown> {
    const result = await this.#send("Profiler.stop");
    return result.profile;
  }

  /** Closes the connection. */
  close(): void {
    this.#ws.close();
  }

  #send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#nextId++;
    const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
    });
    this.#ws.send(JSON.stringify({ id, method, params }));
    return withTimeout(reply, 60_000, `inspector ${method}`);
  }
}
