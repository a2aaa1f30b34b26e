/**
 * Every error the core produces, defined once at module level so that
 * `instanceof` works across plugin instances and bundles. Each has a stable
 * `code`; the ones that can reach an HTTP response carry a `statusCode`, so a
 * Fastify handler can simply `throw err` and the default error handler answers
 * with the right status.
 *
 * @module
 */

/** Options accepted by every error of this library. */
export interface GoGoScopeErrorOptions {
  /** The underlying cause, kept on `error.cause`. */
  cause?: unknown;
}

/**
 * A task or scope deadline passed. HTTP status 504.
 *
 * @example
 * ```ts
 * import { scope, TimeoutError } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const [err] = await s.task(() => new Promise(() => {}), { timeout: 10 });
 * console.log(err instanceof TimeoutError, (err as TimeoutError).timeout); // true 10
 * ```
 */
export class TimeoutError extends Error {
  /** Stable machine-readable code. */
  readonly code: "GGS_ERR_TIMEOUT" = "GGS_ERR_TIMEOUT";
  /** The class name, for `switch (err._tag)`. */
  readonly _tag: "TimeoutError" = "TimeoutError";
  /** HTTP status a Fastify error handler answers with. */
  readonly statusCode: 504 = 504;
  /** The deadline that passed, in milliseconds. */
  readonly timeout: number;
  /**
   * Creates the error.
   *
   * @param message What timed out.
   * @param timeout The deadline in milliseconds.
   */
  constructor(message: string, timeout: number, options?: GoGoScopeErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
    this.timeout = timeout;
  }
}

/**
 * A scope or task was cancelled: disposed, cancelled by hand, or its parent or
 * external signal aborted. HTTP status 499 (client closed request).
 *
 * @example
 * ```ts
 * import { AbortError, scope } from "@go-go-scope/adapter-fastify/core";
 *
 * const s = scope();
 * const t = s.task(() => new Promise(() => {}));
 * await s[Symbol.asyncDispose]();
 * const [err] = await t;
 * console.log(err instanceof AbortError); // true
 * ```
 */
export class AbortError extends Error {
  /** Stable machine-readable code. */
  readonly code: string = "GGS_ERR_ABORTED";
  /** The class name, for `switch (err._tag)`. */
  readonly _tag: string = "AbortError";
  /** HTTP status a Fastify error handler answers with. */
  readonly statusCode: number = 499;
  /** The abort reason when it was not itself an Error (for example a string). */
  readonly reason: unknown;
  /**
   * Creates the error.
   *
   * @param message Why the work was cancelled.
   * @param reason The original abort reason, if any.
   */
  constructor(
    message = "The operation was aborted",
    reason?: unknown,
    options?: GoGoScopeErrorOptions,
  ) {
    super(message, options);
    this.name = "AbortError";
    this.reason = reason;
  }
}

/**
 * The HTTP client went away before the response ended. The request scope is
 * cancelled with this error, so every task's signal aborts with it.
 *
 * @example
 * ```ts
 * import { AbortError, ClientDisconnectedError } from "@go-go-scope/adapter-fastify/core";
 *
 * const err = new ClientDisconnectedError();
 * console.log(err instanceof AbortError, err.code); // true GGS_ERR_CLIENT_DISCONNECTED
 * ```
 */
export class ClientDisconnectedError extends AbortError {
  /** Stable machine-readable code. */
  override readonly code: string = "GGS_ERR_CLIENT_DISCONNECTED";
  /** The class name, for `switch (err._tag)`. */
  override readonly _tag: string = "ClientDisconnectedError";
  /**
   * Creates the error.
   *
   * @param message What happened, by default "Client disconnected".
   */
  constructor(
    message = "Client disconnected before the response ended",
    options?: GoGoScopeErrorOptions,
  ) {
    super(message, undefined, options);
    this.name = "ClientDisconnectedError";
  }
}

/**
 * The application is closing (`app.close()`): a long-lived request scope (a
 * websocket connection or a server-sent events stream) is cancelled with this
 * error before its connection is closed. HTTP status 503.
 *
 * @example
 * ```ts
 * import { AbortError, ServerClosingError } from "@go-go-scope/adapter-fastify/core";
 *
 * const err = new ServerClosingError();
 * console.log(err instanceof AbortError, err.code); // true GGS_ERR_SERVER_CLOSING
 * ```
 */
export class ServerClosingError extends AbortError {
  /** Stable machine-readable code. */
  override readonly code: string = "GGS_ERR_SERVER_CLOSING";
  /** HTTP status a Fastify error handler answers with. */
  override readonly statusCode: number = 503;
  /** The class name, for `switch (err._tag)`. */
  override readonly _tag: string = "ServerClosingError";
  /**
   * Creates the error.
   *
   * @param message What happened, by default "Server closing".
   */
  constructor(message = "Server closing", options?: GoGoScopeErrorOptions) {
    super(message, undefined, options);
    this.name = "ServerClosingError";
  }
}

/**
 * A circuit breaker is open and rejected the call without running it.
 * HTTP status 503.
 *
 * @example
 * ```ts
 * import { CircuitBreaker, CircuitOpenError } from "@go-go-scope/adapter-fastify/core";
 *
 * const breaker = new CircuitBreaker({ failureThreshold: 1 });
 * await breaker.execute(() => Promise.reject(new Error("down"))).catch(() => {});
 * const err = await breaker.execute(() => "never runs").catch((e) => e);
 * console.log(err instanceof CircuitOpenError); // true
 * ```
 */
export class CircuitOpenError extends Error {
  /** Stable machine-readable code. */
  readonly code: "GGS_ERR_CIRCUIT_OPEN" = "GGS_ERR_CIRCUIT_OPEN";
  /** The class name, for `switch (err._tag)`. */
  readonly _tag: "CircuitOpenError" = "CircuitOpenError";
  /** HTTP status a Fastify error handler answers with. */
  readonly statusCode: 503 = 503;
  /** Milliseconds until the breaker lets a trial call through. */
  readonly retryAfter: number;
  /**
   * Creates the error.
   *
   * @param retryAfter Milliseconds until a trial call is allowed.
   */
  constructor(
    retryAfter: number,
    message = "Circuit breaker is open",
    options?: GoGoScopeErrorOptions,
  ) {
    super(message, options);
    this.name = "CircuitOpenError";
    this.retryAfter = retryAfter;
  }
}

/**
 * A channel with `backpressure: 'error'` was full when `send()` was called.
 *
 * @example
 * ```ts
 * import { Channel, ChannelFullError } from "@go-go-scope/adapter-fastify/core";
 *
 * const ch = new Channel<number>({ buffer: 1, backpressure: "error" });
 * await ch.send(1);
 * const err = await ch.send(2).catch((e) => e);
 * console.log(err instanceof ChannelFullError); // true
 * ```
 */
export class ChannelFullError extends Error {
  /** Stable machine-readable code. */
  readonly code: "GGS_ERR_CHANNEL_FULL" = "GGS_ERR_CHANNEL_FULL";
  /** The class name, for `switch (err._tag)`. */
  readonly _tag: "ChannelFullError" = "ChannelFullError";
  /**
   * Creates the error.
   *
   * @param capacity The channel's capacity.
   */
  constructor(capacity: number, options?: GoGoScopeErrorOptions) {
    super(`Cannot send: the channel is full (capacity ${capacity}, backpressure 'error')`, options);
    this.name = "ChannelFullError";
  }
}

/**
 * A task threw something that is not an `Error` (a string, a number, an
 * object), or a plain `Error` (constructed by `Error` itself, without a
 * `_tag`): the message is kept and the original value is on `cause`. Error
 * subclasses (`TypeError`, your own classes) and tagged errors come back
 * unchanged.
 *
 * @example
 * ```ts
 * import { scope, UnknownError } from "@go-go-scope/adapter-fastify/core";
 *
 * await using s = scope();
 * const [err] = await s.task(() => {
 *   throw "boom";
 * });
 * console.log(err instanceof UnknownError, (err as UnknownError).cause); // true boom
 * ```
 */
export class UnknownError extends Error {
  /** Stable machine-readable code. */
  readonly code: "GGS_ERR_UNKNOWN" = "GGS_ERR_UNKNOWN";
  /** The class name, for `switch (err._tag)`. */
  readonly _tag: "UnknownError" = "UnknownError";
  /**
   * Creates the error.
   *
   * @param message The thrown value as a string.
   */
  constructor(message: string, options?: GoGoScopeErrorOptions) {
    super(message, options);
    this.name = "UnknownError";
  }
}

/** Turns any thrown value into an Error, keeping Errors unchanged. */
export function toError(value: unknown): Error {
  return value instanceof Error ? value : new UnknownError(String(value), { cause: value });
}

/** True for an Error built by `Error` itself that carries no `_tag`. */
export function isPlainError(value: unknown): value is Error {
  return value instanceof Error && value.constructor === Error &&
    (value as { _tag?: unknown })._tag === undefined;
}

/**
 * What a task's Result carries for a value its function threw: an
 * `UnknownError` for a non-Error or a plain untagged `Error` (same message,
 * the original as `cause`); any other Error unchanged.
 */
export function toTaskError(value: unknown): Error {
  if (value instanceof Error && !isPlainError(value)) return value;
  return new UnknownError(value instanceof Error ? value.message : String(value), {
    cause: value,
  });
}

/** Turns an abort reason into the Error a Result carries. */
export function reasonToError(reason: unknown): Error {
  return reason instanceof Error ? reason : new AbortError(
    reason === undefined
      ? "The operation was aborted"
      : `The operation was aborted: ${String(reason)}`,
    reason,
  );
}

/** True for cancellations (ours, DOMException's and Node's AbortError). */
export function isAbortError(error: unknown): boolean {
  return error instanceof AbortError ||
    (error instanceof Error && error.name === "AbortError");
}

/**
 * The response's stream failed after its headers were sent, so the response
 * was cut short although the client stayed. The request scope is cancelled
 * with this error; the stream's own error is on `cause`.
 *
 * @example
 * ```ts
 * import { AbortError, ResponseStreamError } from "@go-go-scope/adapter-fastify/core";
 *
 * const err = new ResponseStreamError(undefined, { cause: new Error("disk read failed") });
 * console.log(err instanceof AbortError, err.code); // true GGS_ERR_RESPONSE_FAILED
 * ```
 */
export class ResponseStreamError extends AbortError {
  /** Stable machine-readable code. */
  override readonly code: string = "GGS_ERR_RESPONSE_FAILED";
  /** HTTP status (only a log can still show it: the headers were already sent). */
  override readonly statusCode: number = 500;
  /** The class name, for `switch (err._tag)`. */
  override readonly _tag: string = "ResponseStreamError";
  /**
   * Creates the error.
   *
   * @param message What happened.
   * @param options `cause`: the stream's error.
   */
  constructor(
    message = "The response stream failed after the headers were sent",
    options?: GoGoScopeErrorOptions,
  ) {
    super(message, undefined, options);
    this.name = "ResponseStreamError";
  }
}
