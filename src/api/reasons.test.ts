import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Reason } from './conditions.js';

describe('the README reason table', () => {
  it('has a row for every reason a condition can carry, and none that does not exist', () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = readme.slice(readme.indexOf('**Status reasons.**'), readme.indexOf('**What is sent to Flant.**'));
    const rows = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual(Object.values(Reason).sort());
  });
});
