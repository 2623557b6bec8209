/**
 * Durations as the API writes them (`30s`, `10m`, `1h30m`), with no dependency: the CLI
 * parses its flags with it without loading the schema.
 */

/** Parses a duration such as `30s`, `10m` or `1h30m` into milliseconds. */
export function durationToMillis(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const match of value.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(match[1]) * (units[match[2] ?? ''] ?? 0);
  }
  return total;
}
