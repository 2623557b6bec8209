/**
 * The logger of every flant-integration process: JSON lines with `app: flant-integration`,
 * and every field that may carry the licence, a Madison key or a token redacted.
 */
import type { Logger } from 'pino';
// The library's log module alone: the proxy and the exporter must not load the whole library.
import { createLogger } from '../reconciler/log.js';

/** Field names that may carry a secret in this program's log calls. */
export const secretFields: readonly string[] = [
  'licenceKey', 'licenseKey', 'licence', 'license', 'authKey', 'auth_key', 'token', 'bearerToken',
  'password', 'authorization', 'Authorization', 'secret', 'data', 'stringData',
];

/** The root logger at `level`. */
export function programLogger(level: string): Logger {
  return createLogger({ level, app: 'flant-integration', secretFields });
}
