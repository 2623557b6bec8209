/**
 * JSON logs through pino. Every field that can carry a secret is redacted by
 * configuration, so a secret never reaches a log line even if passed by mistake.
 */
import { createRequire } from 'node:module';
import type { DestinationStream, Logger } from 'pino';

/**
 * pino is required when the first logger is made, not imported with this module: `render`
 * imports this library's door for its pure parts and never logs (CONVENTIONS.md 16).
 */
const load = createRequire(import.meta.url);

/** Options of the root logger. */
export interface LoggerOptions {
  /** pino level. @default "info" */
  readonly level?: string;
  /** Value of the `app` field on every line. */
  readonly app: string;
  /** Field names that may carry a secret: redacted at the top and up to two levels down. */
  readonly secretFields: readonly string[];
  /** Where lines go. @default standard output */
  readonly destination?: DestinationStream;
}

/** pino redaction paths for `fields`: each at the top and up to two levels down. */
export function redactPaths(fields: readonly string[]): string[] {
  return fields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);
}

/** Creates the root logger. */
export function createLogger(options: LoggerOptions): Logger {
  const { pino } = load('pino') as typeof import('pino');
  const config = {
    level: options.level ?? 'info',
    base: { app: options.app },
    redact: { paths: redactPaths(options.secretFields), censor: '[REDACTED]' },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}
