// Counts the "abort" listeners on a signal, to prove that a feature removes
// every listener it added. Patches only the one signal instance it is given.

/** A signal whose live "abort" listeners can be counted. */
export interface CountedSignal {
  readonly controller: AbortController;
  readonly signal: AbortSignal;
  /** "abort" listeners added and not removed (once-listeners count until the abort fires them). */
  readonly live: number;
}

/** Creates an AbortController whose signal counts its live "abort" listeners. */
export function countedSignal(): CountedSignal {
  const controller = new AbortController();
  const signal = controller.signal;
  const listeners = new Map<unknown, boolean>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  add("abort", () => {
    for (const [listener, once] of listeners) if (once) listeners.delete(listener);
  });
  signal.addEventListener = ((type: string, listener: unknown, options?: unknown): void => {
    if (type === "abort" && listener != null) {
      const once = typeof options === "object" && options !== null &&
        (options as AddEventListenerOptions).once === true;
      listeners.set(listener, once);
    }
    add(type, listener as EventListener, options as AddEventListenerOptions);
  }) as AbortSignal["addEventListener"];
  signal.removeEventListener = ((type: string, listener: unknown, options?: unknown): void => {
    if (type === "abort") listeners.delete(listener);
    remove(type, listener as EventListener, options as EventListenerOptions);
  }) as AbortSignal["removeEventListener"];
  return {
    controller,
    signal,
    get live(): number {
      return listeners.size;
    },
  };
}
