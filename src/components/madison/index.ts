/** Madison: alerts to Flant's incident service through madison-proxy. */
export { dnsResolver, discoverBackends, sortByteWise, type BackendResolver } from './discovery.js';
export { defaultRevocationCheckIntervalMs, MadisonComponent, madisonKinds, type ConnectAPI, type MadisonOptions } from './component.js';
export { madisonComponent, madisonObjects, madisonProxyName, proxyDeploymentName, renderMadison, type MadisonFacts } from './render.js';
