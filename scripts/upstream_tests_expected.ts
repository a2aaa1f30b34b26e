/**
 * The tests of go-go-scope's own suite that fail against our core on purpose
 * (`scripts/upstream_tests.ts`): each one with the difference it shows and why we keep it.
 *
 * @module
 */

/** A test of go-go-scope's suite allowed to fail against our core, and why. */
export interface ExpectedDifference {
  /** The test file, relative to `packages/go-go-scope/tests/`, without `.test.ts`. */
  file: string;
  /** The test's path of names (`describe > test`), as the runner prints it. */
  test: string;
  /** One line: the difference, and why we keep it. */
  why: string;
}

/** Differences we keep on purpose (see docs/differences.md). */
export const EXPECTED: readonly ExpectedDifference[] = [];
