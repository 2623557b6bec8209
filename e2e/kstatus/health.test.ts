import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { luaLiteral } from './build.js';

describe('the Argo CD health check', () => {
  it('is shown in the README exactly as config/argocd/flantintegration-health.lua holds it', () => {
    const script = readFileSync('config/argocd/flantintegration-health.lua', 'utf8');
    const readme = readFileSync('README.md', 'utf8');
    const block = /resource\.customizations\.health\.integration\.flant\.com_FlantIntegration: \|\n((?: {4}.*\n|\n)+)```/.exec(readme)?.[1] ?? '';
    expect(
      block
        .split('\n')
        .map((l) => l.replace(/^ {4}/, ''))
        .join('\n')
        .trimEnd(),
    ).toBe(script.trimEnd());
  });
});

describe('luaLiteral', () => {
  it('writes JSON as a Lua table constructor, strings byte-escaped so no value can end the literal', () => {
    expect(luaLiteral({ a: [1, true, null], 'b"c': 'x"\\\n1é' })).toBe('{["a"] = {1, true, nil}, ["b\\034c"] = "x\\034\\092\\0101\\195\\169"}');
  });
});
