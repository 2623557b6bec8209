import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { importDeckhouse } from './imports.js';

describe('src/imports', () => {
  it('matches a fresh `cdk8s import` of the CRD fixtures (run `npm run import` after changing them)', () => {
    const fresh = importDeckhouse();
    expect([...fresh.keys()]).toEqual(['deckhouse.io.ts']);
    for (const [file, content] of fresh) expect(readFileSync(`src/imports/${file}`, 'utf8')).toBe(content);
  }, 60_000);
});
