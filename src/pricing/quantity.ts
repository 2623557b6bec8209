/**
 * Kubernetes resource quantities (`3500m`, `4`, `16Gi`, `1e3`) as numbers.
 */

const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The value of a quantity; 0 when it cannot be read (a bad quantity never crashes the exporter). */
export function parseQuantity(text: string | undefined): number {
  const match = /^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec((text ?? '').trim());
  if (!match) return 0;
  const value = Number(match[1]);
  const suffix = match[2] ?? '';
  const scale = binary[suffix] ?? decimal[suffix] ?? 1;
  return Number.isFinite(value) ? value * scale : 0;
}
