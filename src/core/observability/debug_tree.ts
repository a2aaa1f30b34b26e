/**
 * `scope.debugTree()`: the live scope tree as text, for logs and operators.
 *
 * @module
 */
import { CHILDREN } from "../base/_symbols.ts";
import { assertKnownKeys, assertObject, assertOneOf, fail } from "../base/_validate.ts";
import type { ScopeLike } from "../base/scope_like.ts";
import type { CircuitBreaker } from "../resilience/circuit_breaker.ts";

/**
 * Options of `scope.debugTree()`.
 *
 * @example
 * ```ts
 * import type { DebugTreeOptions } from "@go-go-scope/adapter-fastify/core";
 *
 * const options: DebugTreeOptions = { format: "mermaid" };
 * console.log(options.format); // mermaid
 * ```
 */
export interface DebugTreeOptions {
  /** `'ascii'` (an indented tree) or `'mermaid'` (a `graph TD` diagram). @default 'ascii' */
  format?: "ascii" | "mermaid";
  /** In ASCII, add `[tasks:n, children:n, circuitBreaker]` after each name. @default true */
  includeStats?: boolean;
}

/** A scope as the tree shows it: a `ScopeLike` with the breaker its tasks go through. */
interface TreeNode extends ScopeLike {
  readonly circuitBreaker: CircuitBreaker | undefined;
  [CHILDREN](): TreeNode[];
}

const WHAT = "Cannot render debug tree";
const KNOWN = ["format", "includeStats"] as const;
const FORMATS = ["ascii", "mermaid"] as const;

function icon(s: TreeNode): string {
  return s.isDisposed ? "💀" : s.isAborted ? "⚠️" : "📦";
}

function stats(s: TreeNode): string {
  const parts: string[] = [];
  if (s.circuitBreaker !== undefined) parts.push("circuitBreaker");
  const tasks = s.taskCount;
  if (tasks > 0) parts.push(`tasks:${tasks}`);
  if (s.childCount > 0) parts.push(`children:${s.childCount}`);
  return parts.length > 0 ? ` [${parts.join(", ")}]` : "";
}

function ascii(root: TreeNode, includeStats: boolean): string {
  const lines: string[] = [];
  const walk = (s: TreeNode, prefix: string, last: boolean, top: boolean): void => {
    const connector = top ? "" : last ? "└─ " : "├─ ";
    lines.push(`${prefix}${connector}${icon(s)} ${s.name}${includeStats ? stats(s) : ""}`);
    const children = s[CHILDREN]();
    const next = top ? "" : prefix + (last ? "   " : "│  ");
    for (let i = 0; i < children.length; i++) {
      walk(children[i]!, next, i === children.length - 1, false);
    }
  };
  walk(root, "", true, true);
  return lines.join("\n");
}

function mermaid(root: TreeNode): string {
  const lines = ["graph TD"];
  let n = 0;
  const walk = (s: TreeNode): string => {
    const id = `scope_${n++}`;
    lines.push(`    ${id}["${icon(s)} ${s.name.replace(/"/g, "#quot;")}"]`);
    if (s.isDisposed) lines.push(`    style ${id} fill:#ffcccc,stroke:#cc0000`);
    else if (s.isAborted) lines.push(`    style ${id} fill:#ffeecc,stroke:#cc9900`);
    for (const child of s[CHILDREN]()) lines.push(`    ${id} --> ${walk(child)}`);
    return id;
  };
  walk(root);
  return lines.join("\n");
}

/**
 * Renders `root` and its live descendants: each scope's name, its state
 * (📦 active, ⚠️ aborted, 💀 disposed) and, in ASCII, its unsettled task
 * and child counts. Disposed children have already left the tree.
 *
 * @param root The scope to start from.
 * @param options `{ format: 'ascii' | 'mermaid', includeStats }`.
 * @returns The tree, one line per scope (ASCII) or a Mermaid `graph TD`.
 * @throws {TypeError} When an option is invalid.
 *
 * @example
 * ```ts
 * import { scope } from "@go-go-scope/adapter-fastify/core";
 *
 * await using app = scope({ name: "app" });
 * const req = app.createChild({ name: "request" });
 * req.createChild({ name: "db" });
 * console.log(app.debugTree());
 * // 📦 app [children:1]
 * // └─ 📦 request [children:1]
 * //    └─ 📦 db
 * ```
 */
export function debugTree(root: TreeNode, options?: DebugTreeOptions): string {
  let format: DebugTreeOptions["format"] = "ascii";
  let includeStats = true;
  if (options !== undefined) {
    assertObject(WHAT, "options", options);
    assertKnownKeys(WHAT, options, KNOWN);
    if (options.format !== undefined) {
      assertOneOf(WHAT, "format", options.format, FORMATS);
      format = options.format;
    }
    if (options.includeStats !== undefined) {
      if (typeof options.includeStats !== "boolean") {
        fail(WHAT, "includeStats", "a boolean", options.includeStats, false);
      }
      includeStats = options.includeStats;
    }
  }
  return format === "mermaid" ? mermaid(root) : ascii(root, includeStats);
}
