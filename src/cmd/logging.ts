/**
 * The logger of the controller and the exporter: JSON lines with `app: flant-integration`, and
 * every field that may carry the licence, a Madison key or a token redacted (the proxy writes
 * the same lines with its own small logger, src/proxy/log.ts).
 */
import type { Logger } from 'pino';
// The library's log module alone: the exporter must not load the whole library.
import { createLogger } from '../reconciler/log.js';
import { secretFields } from './secret-fields.js';

/** The root logger at `level`. */
export function programLogger(level: string): Logger {
  return createLogger({ level, app: 'flant-integration', secretFields });
}
