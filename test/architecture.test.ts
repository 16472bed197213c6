// The shape of src/: no module imports another in a cycle, type-only and lazy imports included.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

/** Relative imports of a file (static, `import type`, `export … from`, and `import()`), as paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)];
  return found.map((m) => resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts')));
}

/** Every cycle, each as the list of files from one back to itself (relative to src/). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found.map((cycle) => cycle.map((f) => relative(SRC, f)));
}

describe('src/', () => {
  const graph = new Map(sources(SRC).map((file) => [file, importsOf(file)]));

  it('reads the imports it checks (the graph is not empty)', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect(graph.get(join(SRC, 'cli/run.ts'))).toContain(join(SRC, 'cli/commands/serve.ts'));
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('would see one', () => {
    const a = join(SRC, 'a.ts');
    const b = join(SRC, 'b.ts');
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });
});

/**
 * The layers of src/, lowest first: a module may import (at run time) only from its own folder or
 * a lower layer. Type-only imports describe a shape and load nothing; they are left to the cycle
 * check above.
 */
const LAYERS: Record<string, number> = {
  'protocol.ts': 0,
  'remember.ts': 0,
  'address.ts': 0,
  'concurrency.ts': 0,
  'version.ts': 0,
  discovery: 1,
  config: 2,
  http: 3,
  verify: 3,
  ops: 4,
  watch: 4,
  sync: 4,
  'server.ts': 5,
  cli: 6,
};

/** The top folder (or top-level file) of a path under src/. */
function layerOf(file: string): string {
  return relative(SRC, file).split(/[\\/]/)[0] as string;
}

/** Run-time relative imports of a file: static, `export … from` and `import()`, not `import type`. */
function valueImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [
    ...text.matchAll(/(?:^|\n)\s*(import|export)(\s+type)?\b[^'";]*?from\s+'(\.{1,2}\/[^']+)'/g),
  ]
    .filter((m) => m[2] === undefined)
    .map((m) => m[3] as string);
  const dynamic = [...text.matchAll(/import\s*\(\s*'(\.{1,2}\/[^']+)'/g)].map(
    (m) => m[1] as string,
  );
  return [...found, ...dynamic].map((p) => resolve(dirname(file), p.replace(/\.js$/, '.ts')));
}

describe('the layers of src/', () => {
  const files = sources(SRC);

  it('knows every folder and top-level file', () => {
    expect(files.map(layerOf).filter((layer) => LAYERS[layer] === undefined)).toEqual([]);
  });

  it('has no run-time import from a higher layer, nor across folders of one layer', () => {
    const breaches = files.flatMap((file) =>
      valueImportsOf(file)
        .filter((target) => {
          const [from, to] = [layerOf(file), layerOf(target)];
          return from !== to && (LAYERS[to] as number) >= (LAYERS[from] as number);
        })
        .map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`),
    );
    expect(breaches).toEqual([]);
  });

  it('would see a breach', () => {
    const imports = valueImportsOf(join(SRC, 'http/app.ts')).map((t) => relative(SRC, t));
    expect(imports).toContain('config/compile.ts');
    expect(imports).not.toContain('ops/metrics.ts'); // a type import
    expect(layerOf(join(SRC, 'ops/admin.ts'))).toBe('ops');
  });

  it('lets only the serve command import server.ts', () => {
    const importers = files.filter((file) => importsOf(file).includes(join(SRC, 'server.ts')));
    expect(importers.map((f) => relative(SRC, f))).toEqual(['cli/commands/serve.ts']);
  });
});

describe('the functions of src/', () => {
  it('are 120 lines at the most', () => {
    const long: string[] = [];
    for (const file of sources(SRC)) {
      const source = ts.createSourceFile(
        file,
        readFileSync(file, 'utf8'),
        ts.ScriptTarget.Latest,
        true,
      );
      const visit = (node: ts.Node) => {
        if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
          const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
          const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
          if (last - first + 1 > 120)
            long.push(`${relative(SRC, file)}:${first + 1} (${last - first + 1} lines)`);
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(long).toEqual([]);
  });
});
