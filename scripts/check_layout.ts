/**
 * The source layout rules of `src/`, checked: no source file over 400 lines (`src/core/scope.ts`,
 * the hub, at most 650), no folder with more than 14 source files, and every source file opening
 * with the comment that says what it is. Lists every offender and exits 1 when there is one.
 *
 * A source file is any `.ts` file under `src/`, declaration files (`.d.ts`) included: a reader
 * opens them like the others. A folder counts the source files directly in it, not those of its
 * subfolders. A file's first line must be a comment (`//` or `/*`); triple-slash directives
 * (`/// <reference ... />`), which TypeScript wants at the very top, are skipped first.
 *
 * @module
 */

/** The most lines a source file may have. */
export const MAX_LINES = 400;
/** Files allowed more lines than {@linkcode MAX_LINES}, and how many. */
export const MAX_LINES_OF: Readonly<Record<string, number>> = { "src/core/scope.ts": 650 };
/** The most source files a folder may hold. */
export const MAX_FILES = 14;

/** A source file: its path from the repository root, with `/`, and its text. */
export interface SourceFile {
  path: string;
  text: string;
}

/** What the check found: the offenders, and the figures nearest to the limits. */
export interface LayoutReport {
  problems: string[];
  files: number;
  folders: number;
  /** The file with the least room left under its limit. */
  fullestFile: { path: string; lines: number; limit: number } | undefined;
  /** The folder with the most source files. */
  fullestFolder: { path: string; files: number } | undefined;
}

/** The number of lines of `text`, as `wc -l` counts them when it ends with a newline. */
export function lineCount(text: string): number {
  if (text === "") return 0;
  const lines = text.split("\n").length;
  return text.endsWith("\n") ? lines - 1 : lines;
}

/** Whether the first line of `text` that is not a triple-slash directive opens a comment. */
export function opensWithComment(text: string): boolean {
  for (const line of text.split("\n")) {
    if (/^\/\/\/\s*<.*\/>\s*$/.test(line)) continue;
    return line.startsWith("//") || line.startsWith("/*");
  }
  return false;
}

/** Applies the rules to `files`. */
export function checkLayout(files: readonly SourceFile[]): LayoutReport {
  const problems: string[] = [];
  const perFolder = new Map<string, number>();
  let fullestFile: LayoutReport["fullestFile"];
  for (const { path, text } of files) {
    const folder = path.slice(0, path.lastIndexOf("/"));
    perFolder.set(folder, (perFolder.get(folder) ?? 0) + 1);
    const lines = lineCount(text);
    const limit = MAX_LINES_OF[path] ?? MAX_LINES;
    if (lines > limit) problems.push(`${path}: ${lines} lines (at most ${limit})`);
    if (fullestFile === undefined || limit - lines < fullestFile.limit - fullestFile.lines) {
      fullestFile = { path, lines, limit };
    }
    if (!opensWithComment(text)) {
      problems.push(`${path}: the first line is not a comment saying what the file is`);
    }
  }
  let fullestFolder: LayoutReport["fullestFolder"];
  for (const [path, count] of [...perFolder].sort(([a], [b]) => a.localeCompare(b))) {
    if (count > MAX_FILES) problems.push(`${path}/: ${count} source files (at most ${MAX_FILES})`);
    if (fullestFolder === undefined || count > fullestFolder.files) {
      fullestFolder = { path, files: count };
    }
  }
  return { problems, files: files.length, folders: perFolder.size, fullestFile, fullestFolder };
}

/** Every source file under `dir` (a path from the repository root), sorted by path. */
async function collect(root: URL, dir: string): Promise<SourceFile[]> {
  const found: SourceFile[] = [];
  for await (const entry of Deno.readDir(new URL(`${dir}/`, root))) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await collect(root, path));
    else if (entry.isFile && path.endsWith(".ts")) {
      found.push({ path, text: await Deno.readTextFile(new URL(path, root)) });
    }
  }
  return found.sort((a, b) => a.path.localeCompare(b.path));
}

if (import.meta.main) {
  const report = checkLayout(await collect(new URL("../", import.meta.url), "src"));
  if (report.problems.length > 0) {
    console.error(`${report.problems.length} layout problem(s) in src/:`);
    for (const problem of report.problems) console.error(`  ${problem}`);
    Deno.exit(1);
  }
  const file = report.fullestFile;
  const folder = report.fullestFolder;
  console.log(
    `Layout OK: ${report.files} source files in ${report.folders} folders` +
      (file === undefined
        ? ""
        : `; closest to its limit: ${file.path} (${file.lines}/${file.limit} lines)`) +
      (folder === undefined
        ? ""
        : `; fullest folder: ${folder.path}/ (${folder.files}/${MAX_FILES} files)`),
  );
}
