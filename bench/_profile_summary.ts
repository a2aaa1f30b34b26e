/**
 * Summarises a V8 `.cpuprofile` (from `deno task bench:http --cpu-prof`, or `node --cpu-prof`):
 * where the busy time goes, by function (self time), by file, and the inclusive time of the
 * plugin's and core's own functions (files under npm/ or src/).
 *
 * ```sh
 * deno run -A bench/_profile_summary.ts .tmp/cpu-prof/node-plugin.cpuprofile [--top 25] [--requests N]
 * ```
 *
 * @module
 */
import { table } from "./_lib.ts";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const path = Deno.args.find((a) => !a.startsWith("--"));
if (path === undefined) {
  console.error("usage: deno run -A bench/_profile_summary.ts <file.cpuprofile> [--top 25]");
  Deno.exit(2);
}
const topIndex = Deno.args.indexOf("--top");
const top = topIndex >= 0 ? Number(Deno.args[topIndex + 1]) : 25;
const requestsIndex = Deno.args.indexOf("--requests");
const requests = requestsIndex >= 0 ? Number(Deno.args[requestsIndex + 1]) : NaN;
const profile = JSON.parse(await Deno.readTextFile(path)) as Profile;

const byId = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

function shortUrl(url: string): string {
  return url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "").replace(
    /^.*\/work\/main\//,
    "",
  );
}
function keyOf(frame: CallFrame): string {
  const name = frame.functionName || "(anonymous)";
  return frame.url === "" ? name : `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}
function groupOf(frame: CallFrame): string {
  const url = frame.url;
  if (url === "") return frame.functionName.startsWith("(") ? frame.functionName : "(native)";
  if (url.includes("/npm/") || url.includes("/src/core/") || url.includes("/src/fastify/")) {
    return `ours: ${shortUrl(url)}`;
  }
  if (url.startsWith("node:")) return "node internals";
  const pkg = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  return pkg ?? shortUrl(url);
}

const total = [...self.values()].reduce((a, b) => a + b, 0);
const idle = [...self.entries()]
  .filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)")
  .reduce((a, [, t]) => a + t, 0);
const busy = total - idle;

const selfByKey = new Map<string, number>();
const selfByGroup = new Map<string, number>();
for (const [id, time] of self) {
  const frame = byId.get(id)?.callFrame;
  if (frame === undefined || frame.functionName === "(idle)") continue;
  selfByKey.set(keyOf(frame), (selfByKey.get(keyOf(frame)) ?? 0) + time);
  selfByGroup.set(groupOf(frame), (selfByGroup.get(groupOf(frame)) ?? 0) + time);
}

// Inclusive time of our own functions (outermost occurrence on each stack only).
const inclusive = new Map<string, number>();
function walk(id: number, onStack: Set<string>): number {
  const node = byId.get(id);
  if (node === undefined) return 0;
  let time = self.get(id) ?? 0;
  const key = keyOf(node.callFrame);
  const ours = groupOf(node.callFrame).startsWith("ours:");
  const added = ours && !onStack.has(key);
  if (added) onStack.add(key);
  for (const child of node.children ?? []) time += walk(child, onStack);
  if (added) {
    onStack.delete(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + time);
  }
  return time;
}
const root = profile.nodes[0];
if (root !== undefined) walk(root.id, new Set());

const pct = (t: number): string => `${((100 * t) / busy).toFixed(1)}%`;
const ms = (t: number): string => (t / 1000).toFixed(0);
const perRequest = (t: number): string => Number.isNaN(requests) ? "–" : (t / requests).toFixed(2);
const sorted = (m: Map<string, number>): [string, number][] =>
  [...m.entries()].sort((a, b) => b[1] - a[1]);

console.log(`profile: ${path}`);
console.log(
  `busy ${ms(busy)} ms, idle ${ms(idle)} ms (percentages below are of busy time)` +
    (Number.isNaN(requests) ? "" : `; ${requests} requests: ${perRequest(busy)} µs busy/request`) +
    "\n",
);
console.log(
  table(
    ["self time by file", "ms", "share", "µs/request"],
    sorted(selfByGroup).slice(0, top).map(([k, t]) => [k, ms(t), pct(t), perRequest(t)]),
  ),
);
console.log("");
console.log(
  table(
    ["self time by function", "ms", "share", "µs/request"],
    sorted(selfByKey).slice(0, top).map(([k, t]) => [`\`${k}\``, ms(t), pct(t), perRequest(t)]),
  ),
);
console.log("");
console.log(
  table(
    ["inclusive time of our functions", "ms", "share", "µs/request"],
    sorted(inclusive).slice(0, top).map(([k, t]) => [`\`${k}\``, ms(t), pct(t), perRequest(t)]),
  ),
);
