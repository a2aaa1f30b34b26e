/**
 * The exact Node releases the npm package is tested on (`scripts/build_npm.ts --node`) and
 * measured on (`bench:instr --node`), one per supported major, each run through
 * `npx -y node@<release>` when it is not the machine's own.
 *
 * @module
 */

/** The exact release of each Node major that `npx -y node@<release>` runs. */
export const NODE_RELEASES: Readonly<Record<string, string>> = {
  "20": "20.20.2",
  "22": "22.23.3",
  "24": "24.21.0",
};
