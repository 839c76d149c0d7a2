// The layering rules of DESIGN §1, checked on the source (static imports and `import()` with a literal):
// the domain (server/lab) imports nothing above it; pages and components reach the server only through
// types, the shared zod schemas (lab/spec.ts) and the tRPC router's type; api/, http/, sockets/ and cli/ use the
// domain only through lab/lab.ts; and no runtime import cycle exists.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

interface Edge { from: string; to: string; typeOnly: boolean }
/** Packages that only run in Node: a module importing one (or node:*) cannot be bundled for the browser. */
const NODE_ONLY = /^(node:|execa$|node-pty$|ws$|yaml$|next\/dist\/server)/;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) { if (e.name !== 'node_modules') out.push(...sources(rel)); } else if (/\.(ts|tsx)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) out.push(rel);
  }
  return out;
}

/** The bare (package) specifiers a file imports at run time. */
function packages(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*import\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"./@][^'"]*|@(?!\/)[^'"]+)['"]/g)].map((m) => m[1]);
}

/** Every import of a file that resolves to a project file (relative or `@/`), with whether it is type-only. */
function edges(file: string): Edge[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const out: Edge[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4];
    if (!spec) continue;
    let target: string;
    if (spec.startsWith('@/')) target = spec.slice(2);
    else if (spec.startsWith('.')) target = path.join(path.dirname(file), spec);
    else continue;
    const resolved = [target, `${target}.ts`, `${target}.tsx`, path.join(target, 'index.ts')].find((t) => fs.existsSync(path.join(ROOT, t)) && fs.statSync(path.join(ROOT, t)).isFile());
    if (!resolved) continue;
    // `import { type A, type B }` is type-only too.
    const names = /\{([^}]*)\}/.exec(m[0])?.[1];
    const allTypes = !!names && names.split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '));
    out.push({ from: file, to: path.normalize(resolved), typeOnly: !!m[2] || allTypes });
  }
  return out;
}

const server = sources('server');
const ui = [...sources('components'), ...sources('app')];

describe('import rules', () => {
  it('server/lab (the domain) imports nothing from the layers above it', () => {
    const up = server.filter((f) => f.startsWith('server/lab/')).flatMap(edges)
      .filter((e) => !e.to.startsWith('server/lab/') || e.to.startsWith('components/') || e.to.startsWith('app/'))
      .map((e) => `${e.from} → ${e.to}`);
    expect(up).toEqual([]);
  });

  it('pages and components reach the server only through types and browser-safe shared modules (the zod schemas, validators)', () => {
    // A server module a page may import at run time: it and everything it imports at run time use no Node-only code.
    const nodeOnly = (f: string, seen = new Set<string>()): string | null => {
      if (seen.has(f)) return null;
      seen.add(f);
      const pkg = packages(f).find((p) => NODE_ONLY.test(p));
      if (pkg) return `${f} imports ${pkg}`;
      for (const e of edges(f)) if (!e.typeOnly) { const why = nodeOnly(e.to, seen); if (why) return why; }
      return null;
    };
    const bad = ui.flatMap(edges).filter((e) => e.to.startsWith('server/') && !e.typeOnly)
      .map((e) => ({ e, why: nodeOnly(e.to) })).filter((x) => x.why).map((x) => `${x.e.from} → ${x.e.to} (${x.why})`);
    expect(bad).toEqual([]);
    // The rule has teeth: a Node-only module is recognised as one.
    expect(nodeOnly('server/lab/vm/lifecycle.ts')).toMatch(/imports (node:|execa)/);
  });

  it('the outer layers (api, http, sockets, cli, the server) use the domain only through its front door, lab/lab.ts', () => {
    const FRONT = new Set(['server/lab/lab.ts', 'server/lab/spec.ts', 'server/lab/errors.ts']);
    const outer = server.filter((f) => !f.startsWith('server/lab/'));
    const bad = (files: string[]) => files.flatMap(edges).filter((e) => e.to.startsWith('server/lab/') && !FRONT.has(e.to)).map((e) => `${e.from} → ${e.to}`);
    expect(bad(outer)).toEqual([]);
    // …and through the Lab's own methods, not the services inside it.
    const inner = /\blab\.(vms|provisioner|snapshots)\b|\.stack\(\)/;
    expect(outer.filter((f) => inner.test(fs.readFileSync(path.join(ROOT, f), 'utf8')))).toEqual([]);
    // The rule has teeth: a test file of an outer layer reaches inside, and is recognised.
    expect(bad(['server/api/hostile.test.ts'])).toEqual(['server/api/hostile.test.ts → server/lab/testing/guests.ts']);
  });

  it('no runtime import cycle in the server', () => {
    const graph = new Map<string, string[]>();
    for (const f of server) graph.set(f, edges(f).filter((e) => !e.typeOnly && e.to.startsWith('server/')).map((e) => e.to));
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });
});
