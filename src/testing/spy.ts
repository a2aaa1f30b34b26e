/**
 * `createSpy()`: a function that records its calls and returns what the test
 * says.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";

/**
 * One recorded call of a {@linkcode Spy}.
 *
 * @example
 * ```ts
 * import { createSpy, type SpyCall } from "@go-go-scope/adapter-fastify/testing";
 *
 * const spy = createSpy<[number], number>().mockImplementation((n) => n * 2);
 * spy(21);
 * const call: SpyCall<[number], number> | undefined = spy.calls[0];
 * console.log(call); // { args: [ 21 ], result: 42 }
 * ```
 */
export interface SpyCall<TArgs extends unknown[], TReturn> {
  /** The arguments it was called with. */
  args: TArgs;
  /** What it returned (`undefined` when it threw). */
  result: TReturn;
  /** What it threw, on calls that threw (the error is thrown on to the caller too). */
  error?: unknown;
}

/**
 * A spy function (go-go-scope's interface): call it like the function it
 * stands for; it records every call.
 *
 * @example
 * ```ts
 * import { createSpy, type Spy } from "@go-go-scope/adapter-fastify/testing";
 *
 * const spy: Spy<[string], string> = createSpy<[string], string>().mockReturnValue("mocked");
 * console.log(spy("a"), spy.wasCalledWith("a"), spy.calls.length); // mocked true 1
 * ```
 */
export interface Spy<TArgs extends unknown[], TReturn> {
  /** Calls the implementation (or returns the mock value, or `undefined`) and records the call. */
  (...args: TArgs): TReturn;
  /** Every call so far, in order. */
  calls: SpyCall<TArgs, TReturn>[];
  /** Uses `fn` for later calls. */
  mockImplementation: (fn: (...args: TArgs) => TReturn) => Spy<TArgs, TReturn>;
  /** Returns `value` from later calls (an implementation takes precedence). */
  mockReturnValue: (value: TReturn) => Spy<TArgs, TReturn>;
  /** Forgets the calls, the implementation and the return value. */
  mockReset: () => Spy<TArgs, TReturn>;
  /** The recorded calls (the same array as `calls`). */
  getCalls: () => SpyCall<TArgs, TReturn>[];
  /** True once it was called. */
  wasCalled: () => boolean;
  /** True when some call's arguments deeply and strictly equal `expectedArgs`. */
  wasCalledWith: (...expectedArgs: TArgs) => boolean;
}

/**
 * Creates a {@linkcode Spy}. Unlike go-go-scope's, `wasCalledWith` compares
 * arguments with deep strict equality (go-go-scope compares their JSON, so
 * `undefined`, functions, `NaN`, dates and class instances compare wrongly),
 * calls that throw are recorded (with `error`), and the implementation gets
 * the spy's `this`.
 *
 * @typeParam TArgs The arguments' types.
 * @typeParam TReturn The return type.
 * @returns The spy.
 *
 * @example
 * ```ts
 * import { createSpy } from "@go-go-scope/adapter-fastify/testing";
 *
 * const onRetry = createSpy<[Error, number], void>();
 * onRetry(new Error("flaky"), 1);
 * console.log(onRetry.wasCalled(), onRetry.calls[0]?.args[1]); // true 1
 * ```
 */
export function createSpy<TArgs extends unknown[] = unknown[], TReturn = unknown>(): Spy<
  TArgs,
  TReturn
> {
  const calls: SpyCall<TArgs, TReturn>[] = [];
  let implementation: ((...args: TArgs) => TReturn) | undefined;
  let returnValue: { value: TReturn } | undefined;

  const spy = function (this: unknown, ...args: TArgs): TReturn {
    let result: TReturn;
    if (implementation !== undefined) {
      try {
        result = implementation.apply(this, args);
      } catch (error) {
        calls.push({ args, result: undefined as TReturn, error });
        throw error;
      }
    } else if (returnValue !== undefined) result = returnValue.value;
    else result = undefined as TReturn;
    calls.push({ args, result });
    return result;
  } as Spy<TArgs, TReturn>;

  spy.calls = calls;
  spy.mockImplementation = (fn) => {
    implementation = fn;
    return spy;
  };
  spy.mockReturnValue = (value) => {
    returnValue = { value };
    return spy;
  };
  spy.mockReset = () => {
    calls.length = 0;
    implementation = undefined;
    returnValue = undefined;
    return spy;
  };
  spy.getCalls = () => calls;
  spy.wasCalled = () => calls.length > 0;
  spy.wasCalledWith = (...expected) => calls.some((call) => isDeepStrictEqual(call.args, expected));
  return spy;
}
