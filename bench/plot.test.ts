import { describe, expect, it } from 'vitest';
import { niceCeiling, plot, scales } from './plot.js';

describe('scale plot', () => {
  it('rounds the axis up to 1, 2 or 5 times a power of ten', () => {
    expect([0, 0.7, 1, 1.1, 3, 7, 140, 2300].map(niceCeiling)).toEqual([1, 1, 1, 2, 5, 10, 200, 5000]);
  });

  it('puts cluster sizes on a log scale and larger values higher', () => {
    const { x, y } = scales([100, 1000, 10_000], 200);
    expect(x(1000) - x(100)).toBeCloseTo(x(10_000) - x(1000), 6);
    expect(y(150)).toBeLessThan(y(50));
    expect(y(500)).toBe(y(200)); // clipped to the axis
  });

  it('draws every series with one point per step, the targets dashed, labels escaped', () => {
    const svg = plot(
      'a <title>',
      [100, 1000, 5000],
      [
        {
          title: 'Memory',
          unit: 'MiB',
          series: [
            { label: 'one', color: '#111', values: [10, 20, 30] },
            { label: 'two & more', color: '#222', values: [5, NaN, 7] },
          ],
          targets: [{ label: 'target', value: 25, color: '#333' }],
        },
      ],
    );
    expect(svg.match(/<polyline /g)).toHaveLength(2);
    expect(svg.match(/<circle /g)).toHaveLength(5); // the missing value has no point
    expect(svg.match(/stroke-dasharray/g)).toHaveLength(2); // the target line and its legend
    expect(svg).toContain('a &lt;title&gt;');
    expect(svg).toContain('two &amp; more');
    expect(svg.startsWith('<svg ')).toBe(true);
  });
});
