/**
 * JSON logs through pino. Every field that can carry a secret is redacted by
 * configuration, so a secret never reaches a log line even if passed by mistake.
 */
import { pino, type DestinationStream, type Logger } from 'pino';

const secretFields = [
  'licenceKey', 'licenseKey', 'licence', 'license', 'authKey', 'auth_key', 'token', 'bearerToken',
  'password', 'authorization', 'Authorization', 'secret', 'data', 'stringData',
];

/** pino redaction paths: every secret-bearing field at the top and up to two levels down. */
export const redactPaths: string[] = secretFields.flatMap((f) => [f, `*.${f}`, `*.*.${f}`]);

/** Creates the root logger. @param level pino level. @default "info" */
export function createLogger(level = 'info', destination?: DestinationStream): Logger {
  const options = { level, base: { app: 'flant-integration' }, redact: { paths: redactPaths, censor: '[REDACTED]' } };
  return destination ? pino(options, destination) : pino(options);
}
