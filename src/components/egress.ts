/**
 * The egress proxy of `spec.proxy`, as the controller and every generated workload get it.
 * Its credentials come from `spec.proxy.credentialsSecretRef`, never from the spec itself:
 * the controller reads them, uses them in memory for its own calls, and hands them to a
 * workload through a Secret of that component (`$(EGRESS_PROXY_USERINFO)` in the proxy
 * variables), so no Deployment carries them in clear.
 */
import type { EnvVar } from '../imports/cdk8s.js';
import type { FlantIntegrationSpec } from '../api/index.js';
import type { ProxySettings } from '../connect/index.js';
import { readSecretKey, type GatherContext } from '../flantintegration/index.js';

/** The keys of `spec.proxy.credentialsSecretRef`: those of a `kubernetes.io/basic-auth` Secret. */
export const proxyCredentialKeys = { username: 'username', password: 'password' } as const;
/** The variable a workload gets the proxy's `user:password` (URL-encoded) in. */
export const userinfoEnv = 'EGRESS_PROXY_USERINFO';
/** The key of a component's egress Secret that holds it. */
export const userinfoKey = 'userinfo';

/** The egress settings of one reconcile: for the controller's own calls, and what a workload's Secret holds. */
export interface Egress {
  /** The proxy settings with the credentials in the URLs: in memory only. */
  readonly settings: ProxySettings | undefined;
  /** `user:password`, each part URL-encoded, when the spec names credentials. */
  readonly userinfo?: string;
  /** The raw values, scrubbed out of every message. */
  readonly secrets: readonly string[];
}

/**
 * Reads the proxy's credentials when the spec names them, or takes those the cluster's proxy
 * carried ({@link GatherContext.proxyUserinfo}); or says, naming the Secret, why it cannot.
 */
export function resolveEgress(
  ctx: Pick<GatherContext, 'spec' | 'secrets' | 'secretNamespaces' | 'forbiddenSecretNamespaces' | 'proxyUserinfo'>,
): Egress | { reason: string; message: string } {
  const proxy = ctx.spec.proxy;
  const ref = proxy?.credentialsSecretRef;
  if (!proxy) return { settings: undefined, secrets: [] };
  let userinfo = ctx.proxyUserinfo;
  let secrets: string[] = userinfo === undefined ? [] : [userinfo, ...userinfo.split(':').map(decodeURIComponent)];
  if (ref) {
    const read = (key: string) => readSecretKey({ ...ref, key }, ctx.secrets, ctx.secretNamespaces, ctx.forbiddenSecretNamespaces);
    const username = read(proxyCredentialKeys.username);
    if (!username.found) return { reason: username.reason, message: `spec.proxy.credentialsSecretRef: ${username.message}` };
    const password = read(proxyCredentialKeys.password);
    if (!password.found) return { reason: password.reason, message: `spec.proxy.credentialsSecretRef: ${password.message}` };
    userinfo = `${encodeURIComponent(username.key)}:${encodeURIComponent(password.key)}`;
    secrets = [username.key, password.key, userinfo];
  }
  if (userinfo === undefined) return { settings: proxy, secrets: [] };
  const withUserinfo = (url: string | undefined) => (url && userinfo !== undefined ? insertUserinfo(url, userinfo) : undefined);
  return { settings: { ...proxy, httpProxy: withUserinfo(proxy.httpProxy), httpsProxy: withUserinfo(proxy.httpsProxy) }, userinfo, secrets };
}

/** `scheme://userinfo@rest` from `scheme://rest` (the API refuses URLs that carry credentials already). */
export function insertUserinfo(url: string, userinfo: string): string {
  const i = url.indexOf('://');
  return i < 0 ? url : `${url.slice(0, i + 3)}${userinfo}@${url.slice(i + 3)}`;
}

/**
 * HTTP_PROXY, HTTPS_PROXY and NO_PROXY (both cases) from `spec.proxy`. With credentials (the
 * caller names `secretName`, the component's egress Secret, only then), the URLs take them
 * from {@link userinfoEnv}: Kubernetes expands `$(EGRESS_PROXY_USERINFO)` when it starts the container.
 */
export function proxyEnv(spec: FlantIntegrationSpec, secretName?: string): EnvVar[] {
  const p = spec.proxy;
  if (!p) return [];
  const url = (value: string | undefined) => (value && secretName ? insertUserinfo(value, `$(${userinfoEnv})`) : value);
  const pairs: Array<[string, string | undefined]> = [
    ['HTTP_PROXY', url(p.httpProxy)],
    ['HTTPS_PROXY', url(p.httpsProxy)],
    ['NO_PROXY', p.noProxy?.join(',')],
  ];
  const first: EnvVar[] = secretName ? [{ name: userinfoEnv, valueFrom: { secretKeyRef: { name: secretName, key: userinfoKey } } }] : [];
  return [
    ...first,
    ...pairs
      .filter((e): e is [string, string] => Boolean(e[1]))
      .flatMap(([name, value]) => [
        { name, value },
        { name: name.toLowerCase(), value },
      ]),
  ];
}
