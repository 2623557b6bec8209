/**
 * The scale bench's picture: an SVG of two panels against cluster size (nodes, on a log
 * scale), memory on the left and latency on the right, each series a line with its points
 * and each target a dashed line. Hand-written SVG: no plotting package, nothing to install.
 */

/** One line of a panel: a value per step. */
export interface Series {
  readonly label: string;
  readonly color: string;
  readonly values: readonly number[];
}

/** One panel: its series and dashed target lines. */
export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly series: readonly Series[];
  readonly targets: ReadonlyArray<{ readonly label: string; readonly value: number; readonly color: string }>;
}

const panelWidth = 460;
const panelHeight = 300;
const margin = { left: 58, right: 16, top: 34, bottom: 96 };

const escape = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/** A round upper bound for the axis: 1, 2 or 5 times a power of ten, at least `max`. */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((v) => v >= max) ?? 10 * power;
}

/** Where a step's x and a value's y fall inside a panel whose top-left corner is (x0, 0). */
export function scales(xs: readonly number[], yMax: number, x0 = 0) {
  const [lo, hi] = [Math.log10(Math.min(...xs)), Math.log10(Math.max(...xs))];
  const plotW = panelWidth - margin.left - margin.right;
  const plotH = panelHeight - margin.top - margin.bottom;
  return {
    x: (v: number) => x0 + margin.left + (hi === lo ? plotW / 2 : ((Math.log10(v) - lo) / (hi - lo)) * plotW),
    y: (v: number) => margin.top + plotH - (Math.min(v, yMax) / yMax) * plotH,
  };
}

function panel(p: Panel, xs: readonly number[], x0: number): string {
  const yMax = niceCeiling(Math.max(...p.series.flatMap((s) => s.values.filter(Number.isFinite)), ...p.targets.map((t) => t.value)) * 1.1);
  const { x, y } = scales(xs, yMax, x0);
  const left = x0 + margin.left;
  const right = x0 + panelWidth - margin.right;
  const bottom = y(0);
  const out: string[] = [`<text x="${left}" y="20" font-size="14" font-weight="bold">${escape(p.title)}</text>`];
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    out.push(
      `<line x1="${left}" x2="${right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" text-anchor="end">${+v.toFixed(1)}</text>`,
    );
  }
  for (const n of xs) {
    out.push(`<text x="${x(n).toFixed(1)}" y="${bottom + 16}" font-size="11" text-anchor="middle">${n}</text>`);
  }
  out.push(
    `<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#333"/>`,
    `<line x1="${left}" x2="${left}" y1="${margin.top}" y2="${bottom}" stroke="#333"/>`,
    `<text x="${(left + right) / 2}" y="${bottom + 32}" font-size="11" text-anchor="middle">nodes (log scale)</text>`,
    `<text x="${x0 + 14}" y="${(margin.top + bottom) / 2}" font-size="11" text-anchor="middle" ` +
      `transform="rotate(-90 ${x0 + 14} ${(margin.top + bottom) / 2})">${escape(p.unit)}</text>`,
  );
  for (const t of p.targets) {
    out.push(
      `<line x1="${left}" x2="${right}" y1="${y(t.value).toFixed(1)}" y2="${y(t.value).toFixed(1)}" stroke="${t.color}" ` +
        `stroke-dasharray="6 4"/>`,
    );
  }
  const legend = [
    ...p.series.map((s) => ({ label: s.label, color: s.color, dashed: false })),
    ...p.targets.map((t) => ({ label: t.label, color: t.color, dashed: true })),
  ];
  for (const s of p.series) {
    const points = xs.map((n, i) => [x(n), y(s.values[i] ?? NaN)] as const).filter(([, py]) => Number.isFinite(py));
    const path = points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ');
    out.push(
      `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${path}"/>`,
      ...points.map(([px, py]) => `<circle cx="${px.toFixed(1)}" cy="${py.toFixed(1)}" r="3" fill="${s.color}"/>`),
    );
  }
  legend.forEach((l, i) => {
    const lx = left + (i % 2) * 200;
    const ly = bottom + 50 + Math.floor(i / 2) * 15;
    out.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly - 4}" y2="${ly - 4}" stroke="${l.color}" stroke-width="2"` +
        `${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 24}" y="${ly}" font-size="11">${escape(l.label)}</text>`,
    );
  });
  return out.join('\n');
}

/** The SVG document: one panel per entry, side by side, over the steps `xs` (node counts). */
export function plot(title: string, xs: readonly number[], panels: readonly Panel[]): string {
  const width = panelWidth * panels.length;
  const height = panelHeight + 24;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="${height - 6}" font-size="10" fill="#555">${escape(title)}</text>`,
    ...panels.map((p, i) => panel(p, xs, i * panelWidth)),
    '</svg>',
    '',
  ].join('\n');
}
