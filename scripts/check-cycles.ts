import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/**
 * Fails when TypeScript modules of the repo import each other in a cycle (type-only imports
 * included: they still couple the modules). Resolves relative paths and `@synapse/<pkg>[/<sub>]`.
 */
const root = path.resolve(import.meta.dirname, "..");
const roots = ["packages", "services", "scripts", "bench", "test"].map((d) => path.join(root, d));

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

function workspaceDir(pkg: string): string | undefined {
  for (const base of ["packages", "services"]) {
    const dir = path.join(root, base, pkg);
    if (existsSync(dir)) return dir;
  }
  return undefined;
}

function resolve(from: string, spec: string): string | undefined {
  let target: string;
  if (spec.startsWith(".")) target = path.resolve(path.dirname(from), spec);
  else {
    const m = /^@synapse\/([^/]+)(?:\/(.+))?$/.exec(spec);
    const dir = m ? workspaceDir(m[1]!) : undefined;
    if (!m || !dir) return undefined;
    target = path.join(dir, "src", m[2] ?? "index");
  }
  for (const candidate of [
    target,
    target.replace(/\.js$/, ".ts"),
    `${target}.ts`,
    path.join(target, "index.ts"),
  ])
    if (candidate.endsWith(".ts") && existsSync(candidate)) return candidate;
  return undefined;
}

const importRe =
  /(?:import|export)\s+(?:type\s+)?(?:[^'"]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
const files = roots.flatMap((r) => walk(r));
const graph = new Map<string, string[]>();
for (const f of files) {
  const src = readFileSync(f, "utf8");
  const deps: string[] = [];
  for (const m of src.matchAll(importRe)) {
    const dep = resolve(f, (m[1] ?? m[2])!);
    if (dep) deps.push(dep);
  }
  graph.set(f, deps);
}

const state = new Map<string, 1 | 2>(); // 1 = on the stack, 2 = done
const cycles: string[][] = [];
function visit(node: string, stack: string[]): void {
  state.set(node, 1);
  stack.push(node);
  for (const dep of graph.get(node) ?? []) {
    const s = state.get(dep);
    if (s === 1) cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
    else if (s === undefined) visit(dep, stack);
  }
  stack.pop();
  state.set(node, 2);
}
for (const f of files) if (!state.has(f)) visit(f, []);

if (cycles.length) {
  for (const c of cycles)
    process.stderr.write(`import cycle: ${c.map((p) => path.relative(root, p)).join(" -> ")}\n`);
  process.exit(1);
}
process.stdout.write(`no import cycles in ${files.length} modules\n`);
