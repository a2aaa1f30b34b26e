// The inspector's page: one self-contained HTML document (no CDN, no external
// file) whose script follows `<path>/events` and draws the live tree with
// text nodes only, so no name from a snapshot is ever parsed as HTML.
// Never re-exported by mod.ts.

/** `text` with `& < > " '` replaced by entities: safe in HTML text and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

const ENTITIES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

const STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #656d76; --bg: #fff; --card: #f6f8fa;
  --line: #d0d7de; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --accent: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117;
  --card: #161b22; --line: #30363d; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
  background: var(--bg); }
header { display: flex; gap: 16px; align-items: baseline; padding: 12px 20px;
  border-bottom: 1px solid var(--line); position: sticky; top: 0; background: var(--bg); }
header h1 { font-size: 16px; margin: 0; }
header .stat { color: var(--muted); }
header .stat b { color: var(--fg); }
#status { margin-left: auto; font-size: 12px; padding: 2px 8px; border-radius: 10px;
  border: 1px solid var(--line); }
#status[data-state="live"] { color: var(--ok); }
#status[data-state="offline"] { color: var(--bad); }
main { padding: 12px 20px 40px; display: grid; gap: 10px; }
h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted);
  margin: 14px 0 2px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
.method { font-weight: 700; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.route { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.path, .meta { color: var(--muted); font-size: 12px; }
.deadline { font-size: 12px; }
.deadline.late { color: var(--bad); }
ul.tree { list-style: none; margin: 6px 0 0; padding-left: 14px; border-left: 1px dashed var(--line); }
ul.tree li { margin: 2px 0; }
.task { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.state { font-size: 11px; padding: 0 6px; border-radius: 8px; border: 1px solid var(--line); }
.state.running { color: var(--accent); }
.state.waiting { color: var(--warn); }
.scope { color: var(--muted); font-size: 12px; }
.empty { color: var(--muted); font-style: italic; }
`;

// Runs in the browser. Builds every node with createElement/textContent.
const SCRIPT = `
"use strict";
const events = document.body.dataset.events;
const statusEl = document.getElementById("status");
const requestsEl = document.getElementById("requests");
const rootEl = document.getElementById("root");
const countEl = document.getElementById("count");
const tasksEl = document.getElementById("tasks");
let snapshot = null;
let skew = 0;

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = String(text);
  return node;
}
function duration(ms) {
  if (ms < 1000) return Math.max(0, Math.round(ms)) + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  return Math.floor(ms / 60000) + " min " + Math.round((ms % 60000) / 1000) + " s";
}
function now() { return Date.now() + skew; }
function taskItem(task) {
  const li = el("li", "task");
  li.dataset.taskName = task.name;
  li.dataset.state = task.state;
  li.append(el("span", "name", task.name), " ", el("span", "state " + task.state, task.state), " ");
  const age = el("span", "meta age");
  age.dataset.since = String(task.startedAt);
  li.append(age);
  if (task.retries > 0) li.append(" ", el("span", "meta", "retries " + task.retries));
  return li;
}
function scopeTree(node, top) {
  const ul = el("ul", "tree");
  for (const task of node.tasks) ul.append(taskItem(task));
  for (const child of node.children) {
    const li = el("li");
    li.append(el("span", "scope", "scope " + child.name + (child.aborted ? " (aborted)" : "")));
    li.append(scopeTree(child, false));
    ul.append(li);
  }
  if (top && node.tasks.length === 0 && node.children.length === 0) {
    ul.append(el("li", "empty", "no task running"));
  }
  return ul;
}
function render() {
  if (snapshot === null) return;
  let tasks = 0;
  const count = (node) => { tasks += node.tasks.length; node.children.forEach(count); };
  requestsEl.replaceChildren();
  for (const r of snapshot.requests) {
    count(r.scope);
    const card = el("section", "card request");
    card.dataset.requestId = r.id;
    card.dataset.route = r.route === null ? "" : r.route;
    const head = el("div", "head");
    head.append(el("span", "method", r.method), el("span", "route", r.route === null ? "(no route)" : r.route),
      el("span", "path", r.path));
    const age = el("span", "meta age");
    age.dataset.since = String(r.startedAt);
    head.append(age);
    if (r.deadlineAt !== null) {
      const d = el("span", "deadline");
      d.dataset.until = String(r.deadlineAt);
      head.append(d);
    }
    head.append(el("span", "meta", "request " + r.id));
    card.append(head, scopeTree(r.scope, true));
    requestsEl.append(card);
  }
  if (snapshot.requests.length === 0) requestsEl.append(el("p", "empty", "No request is running."));
  if (snapshot.omitted > 0) requestsEl.append(el("p", "empty", snapshot.omitted + " more not shown"));
  count(snapshot.root);
  rootEl.replaceChildren(el("div", "head"), scopeTree(snapshot.root, true));
  rootEl.firstChild.append(el("span", "route", snapshot.root.name), el("span", "meta", "background tasks and scopes"));
  countEl.textContent = String(snapshot.requests.length + snapshot.omitted);
  tasksEl.textContent = String(tasks);
  tick();
}
function tick() {
  const t = now();
  for (const node of document.querySelectorAll("[data-since]")) {
    node.textContent = duration(t - Number(node.dataset.since));
  }
  for (const node of document.querySelectorAll("[data-until]")) {
    const left = Number(node.dataset.until) - t;
    node.textContent = left > 0 ? "deadline in " + duration(left) : "deadline passed";
    node.classList.toggle("late", left <= 0);
  }
}
setInterval(tick, 250);
const source = new EventSource(events);
source.addEventListener("snapshot", (event) => {
  snapshot = JSON.parse(event.data);
  skew = snapshot.now - Date.now();
  statusEl.textContent = "live";
  statusEl.dataset.state = "live";
  render();
});
source.addEventListener("error", () => {
  statusEl.textContent = "reconnecting";
  statusEl.dataset.state = "offline";
});
`;

/**
 * The page, for an app whose root scope is named `name`, following `events`.
 * `nonce` allows its inline style and script under the response's
 * Content-Security-Policy (nothing else may run).
 */
export function inspectorPage(name: string, events: string, nonce: string): string {
  const title = escapeHtml(`${name}: go-go-scope inspector`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style nonce="${escapeHtml(nonce)}">${STYLE}</style>
</head>
<body data-events="${escapeHtml(events)}">
<header>
<h1>${title}</h1>
<span class="stat"><b id="count">0</b> requests</span>
<span class="stat"><b id="tasks">0</b> tasks</span>
<span id="status" data-state="connecting">connecting</span>
</header>
<main>
<h2>Requests</h2>
<div id="requests"><p class="empty">Waiting for the first snapshot.</p></div>
<h2>Root</h2>
<section class="card" id="root"></section>
</main>
<script nonce="${escapeHtml(nonce)}">${SCRIPT}</script>
</body>
</html>
`;
}
