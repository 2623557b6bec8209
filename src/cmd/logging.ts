/**
 * The logger of every flant-integration process: JSON lines with `app: flant-integration`,
 * and every field that may carry the licence, a Madison key or a token redacted.
 */
import type { Logger } from 'pino';
// The library's log module alone: the proxy and the exporter must not load the whole library.
import { createLogger } from '../reconciler/log.js';
import { secretFields } from './secret-fields.js';

export { secretFields };

/** The root logger at `level`. */
export function programLogger(level: string): Logger {
  return createLogger({ level, app: 'flant-integration', secretFields });
}
