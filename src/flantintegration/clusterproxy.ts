/**
 * The cluster's global proxy, where Deckhouse keeps it: `proxy` of the ClusterConfiguration
 * in the Secret `kube-system/d8-cluster-configuration` (read-only, by name). When `spec.proxy`
 * is empty it is used as Deckhouse uses it (docs/architecture.md section 3): for the agent's
 * `proxy_url`, the proxies' and the pricing pods' proxy variables, and the controller's own
 * calls to Connect; and `NO_PROXY` gets what Deckhouse adds to it, 127.0.0.1, 169.254.169.254,
 * the cluster domain and the pod and service CIDRs. `spec.proxy` always wins.
 *
 * The Secret is input like any other: a URL that is not http(s), a list too long, or YAML that
 * does not parse is refused, with a reason and never with the value. Credentials in the URLs
 * (`http://user:password@proxy:3128`, which Deckhouse allows) are taken out of them and handed
 * on as the spec's `credentialsSecretRef` would hand them: through each component's egress Secret.
 */
import { parse } from 'yaml';
import { proxySchema, type FlantIntegrationSpec, type ProxySpec } from '../api/index.js';
import type { Secret } from './licence.js';

/** Where Deckhouse keeps its ClusterConfiguration. */
export const clusterConfigurationSecret = { namespace: 'kube-system', name: 'd8-cluster-configuration', key: 'cluster-configuration.yaml' } as const;

/** The hosts Deckhouse always adds to `NO_PROXY` (the node itself and the cloud metadata service). */
export const alwaysDirect = ['127.0.0.1', '169.254.169.254'] as const;

/** The cluster's proxy, ready for a spec. */
export interface ClusterProxy {
  /** The proxy, without credentials, with Deckhouse's `NO_PROXY` additions. */
  readonly proxy: ProxySpec;
  /** `user:password`, URL-encoded as in the URL, when the URLs carried credentials. */
  readonly userinfo?: string;
}

/** The cluster's proxy: none (empty), one to use, or why it cannot be used. */
export interface ClusterProxyResult extends Partial<ClusterProxy> {
  /** Why the ClusterConfiguration's proxy is refused (names the Secret and the field, never a value). */
  readonly problem?: string;
}

interface ClusterConfiguration {
  proxy?: { httpProxy?: unknown; httpsProxy?: unknown; noProxy?: unknown };
  clusterDomain?: unknown;
  podSubnetCIDR?: unknown;
  serviceSubnetCIDR?: unknown;
}

const where = `Secret ${clusterConfigurationSecret.namespace}/${clusterConfigurationSecret.name}`;

/** The proxy of the ClusterConfiguration in `secret`, or none, or why it is refused. */
export function clusterProxy(secret: Secret | undefined): ClusterProxyResult {
  const encoded = secret?.data?.[clusterConfigurationSecret.key];
  if (encoded === undefined) return {};
  let config: ClusterConfiguration;
  try {
    config = (parse(Buffer.from(encoded, 'base64').toString('utf8')) ?? {}) as ClusterConfiguration;
  } catch {
    return { problem: `${where}: ${clusterConfigurationSecret.key} is not YAML` };
  }
  const proxy = config.proxy;
  if (typeof proxy !== 'object' || proxy === null || (proxy.httpProxy === undefined && proxy.httpsProxy === undefined)) return {};
  const http = withoutUserinfo(proxy.httpProxy);
  const https = withoutUserinfo(proxy.httpsProxy);
  if ('problem' in http || 'problem' in https)
    return { problem: `${where}: proxy: ${'problem' in http ? http.problem : (https as { problem: string }).problem}` };
  const userinfos = [...new Set([http.userinfo, https.userinfo].filter((u): u is string => u !== undefined))];
  if (userinfos.length > 1) return { problem: `${where}: proxy: httpProxy and httpsProxy carry different credentials` };
  const direct = [
    ...(Array.isArray(proxy.noProxy) ? (proxy.noProxy as unknown[]) : []),
    ...alwaysDirect,
    config.clusterDomain,
    config.podSubnetCIDR,
    config.serviceSubnetCIDR,
  ];
  const parsed = proxySchema.safeParse({
    httpProxy: http.url,
    httpsProxy: https.url,
    noProxy: [...new Set(direct.filter((d): d is string => typeof d === 'string' && d !== ''))],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { problem: `${where}: proxy.${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'does not parse'}` };
  }
  return { proxy: parsed.data, ...(userinfos[0] !== undefined ? { userinfo: userinfos[0] } : {}) };
}

/** `url` without its credentials, and those credentials; none for an absent URL. */
function withoutUserinfo(url: unknown): { url?: string; userinfo?: string } | { problem: string } {
  if (url === undefined || url === '') return {};
  if (typeof url !== 'string') return { problem: 'a proxy URL is not a string' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'a proxy URL does not parse' };
  }
  const userinfo = parsed.username || parsed.password ? `${parsed.username}:${parsed.password}` : undefined;
  parsed.username = '';
  parsed.password = '';
  const bare = parsed.pathname === '/' && !url.endsWith('/') ? parsed.origin : parsed.href;
  return { url: bare, ...(userinfo !== undefined ? { userinfo } : {}) };
}

/** The spec the components see: `spec.proxy` when set, else the cluster's proxy when there is one. */
export function withClusterProxy(spec: FlantIntegrationSpec, cluster: ClusterProxyResult): FlantIntegrationSpec {
  return spec.proxy || !cluster.proxy ? spec : { ...spec, proxy: cluster.proxy };
}
