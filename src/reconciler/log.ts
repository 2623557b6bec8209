/**
 * JSON logs through pino. Every field that can carry a secret is redacted by
 * configuration, so a secret never reaches a log line even if passed by mistake.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

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
  const config = { level: options.level ?? 'info', base: { app: options.app }, redact: { paths: redactPaths(options.secretFields), censor: '[REDACTED]' } };
  return options.destination ? pino(config, options.destination) : pino(config);
}
