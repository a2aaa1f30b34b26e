// Adapters that have `connect()` (go-go-scope's create their tables there) are
// connected once, before the first call our features make through their
// providers; a connect that failed is tried again by the next call, so an
// adapter whose store was down at start-up recovers when the store is back.

interface Connectable {
  connect(): Promise<void> | void;
}

interface State {
  connected: boolean;
  pending: Promise<void> | undefined;
}

const states = new WeakMap<object, State>();
// A provider → the objects whose connect() its calls wait for.
const gates = new WeakMap<object, object[]>();

/** Whether `value` has a `connect()` method. */
export function isConnectable(value: unknown): value is Connectable {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<Connectable>).connect === "function";
}

/** `undefined` once `target` is connected; else the pending (or a new) connect. */
function connect(target: object): Promise<void> | undefined {
  let state = states.get(target);
  if (state === undefined) states.set(target, state = { connected: false, pending: undefined });
  if (state.connected) return undefined;
  if (state.pending !== undefined) return state.pending;
  const s = state;
  s.pending = Promise.resolve()
    .then(() => (target as Connectable).connect())
    .then(() => {
      s.connected = true;
      s.pending = undefined;
    }, (error: unknown) => {
      s.pending = undefined;
      throw error;
    });
  return s.pending;
}

/**
 * Makes the calls through `provider` wait until each of `targets` (the
 * provider itself, the adapter it came from) is connected, and starts
 * connecting them now. A failure is reported to the calls that wait.
 */
export function gate(provider: object, targets: readonly object[]): void {
  const connectable = targets.filter(isConnectable);
  if (connectable.length === 0) return;
  const known = gates.get(provider);
  if (known === undefined) gates.set(provider, [...new Set(connectable)]);
  else for (const t of connectable) if (!known.includes(t)) known.push(t);
  for (const t of connectable) connect(t)?.catch(() => {});
}

/**
 * `undefined` when calls through `provider` may go at once (the usual case);
 * otherwise a promise that resolves once its adapters are connected, or
 * rejects with the error of a connect that failed.
 */
export function whenConnected(provider: object): Promise<void> | undefined {
  const targets = gates.get(provider);
  if (targets === undefined) return undefined;
  let waits: Promise<void>[] | undefined;
  for (const t of targets) {
    const pending = connect(t);
    if (pending !== undefined) (waits ??= []).push(pending);
  }
  if (waits === undefined) {
    gates.delete(provider); // connected for good: later calls skip the lookup
    return undefined;
  }
  return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => {});
}
