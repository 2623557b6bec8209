/** The madison-proxy program. */
export { proxyConfigFromEnv, startProxy, type ProxyConfig, type RunningProxy } from './proxy.js';
export { lineLogger, type ProxyLog } from './log.js';
