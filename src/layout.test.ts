/**
 * The layout of docs/architecture.md section 2, checked on the import statements: imports run one way
 * (cmd -> components -> flantintegration -> reconciler), nothing under src/ imports e2e/ or
 * the cdk8s app, and the image build (tsconfig.image.json) holds src/ alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Top folder under src/ of every relative import of `file`. */
function importedRooms(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import\()\s*'(\.[^']+)'/g)].map((m) => m[1] ?? '');
  return specifiers.map((s) => {
    const path = relative('src', join(file, '..', s));
    return path.startsWith('..') ? path : (path.split('/')[0] ?? '');
  });
}

const room = (file: string) => relative('src', file).split('/')[0] ?? '';
/** What each room may import, besides itself. */
const allowed: Record<string, readonly string[]> = {
  reconciler: [],
  api: ['reconciler'],
  imports: [],
  connect: ['api', 'reconciler'],
  proxy: ['connect', 'reconciler'],
  pricing: ['api', 'reconciler'],
  flantintegration: ['api', 'reconciler'],
  components: ['api', 'connect', 'flantintegration', 'imports', 'reconciler'],
  cmd: ['api', 'components', 'connect', 'flantintegration', 'imports', 'pricing', 'proxy', 'reconciler'],
};

describe('src/ layout', () => {
  const files = sources('src');

  it('has a rule for every room', () => {
    expect([...new Set(files.map(room))].filter((r) => !(r in allowed))).toEqual([]);
  });

  it('imports run one way, and never into e2e/ or cdk8s/', () => {
    const wrong = files.flatMap((file) =>
      importedRooms(file)
        .filter((to) => to !== room(file) && !(allowed[room(file)] ?? []).includes(to))
        .map((to) => `${file} imports ${to}`),
    );
    expect(wrong).toEqual([]);
  });

  it('builds the image from src/ alone', () => {
    const config = JSON.parse(readFileSync('tsconfig.image.json', 'utf8')) as { include: string[] };
    expect(config.include).toEqual(['src/**/*.ts']);
    const dockerfile = readFileSync('Dockerfile', 'utf8');
    expect(dockerfile).toContain('tsconfig.image.json');
    expect(dockerfile.split('\n').filter((l) => /^COPY\b/.test(l) && /\be2e\b|\bcdk8s\b|config\//.test(l))).toEqual([]);
  });
});
