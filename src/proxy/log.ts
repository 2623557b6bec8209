/**
 * The proxy's logger: JSON lines in pino's shape (`level` 20/30/40, `time`, `msg`), written
 * with one `JSON.stringify` and no library, so the proxy's memory stays small. Fields named
 * like secrets are redacted; the key is never passed to it in the first place.
 */

/** What the proxy logs through (pino's Logger fits it too, as the unit tests use). */
export interface ProxyLog {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

const levels = { debug: 20, info: 30, warn: 40 } as const;

/** A logger that writes lines at `level` and above to `write`. */
export function lineLogger(
  level: string,
  secretFields: readonly string[],
  write: (line: string) => void = (line) => void process.stdout.write(line),
): ProxyLog {
  const threshold = level in levels ? levels[level as keyof typeof levels] : level === 'silent' ? Infinity : levels.info;
  const secret = new Set(secretFields);
  const line = (n: number) => (fields: Record<string, unknown>, msg: string) => {
    if (n < threshold) return;
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields)) clean[k] = secret.has(k) ? '[REDACTED]' : v;
    write(`${JSON.stringify({ level: n, time: Date.now(), app: 'flant-integration', ...clean, msg })}\n`);
  };
  return { debug: line(levels.debug), info: line(levels.info), warn: line(levels.warn) };
}
