/**
 * The egress proxy of `spec.proxy`, as every generated workload gets it.
 */
import type { EnvVar } from '../imports/cdk8s.js';
import type { FlantIntegrationSpec } from '../api/index.js';

/** HTTP_PROXY, HTTPS_PROXY and NO_PROXY (both cases) from `spec.proxy`. */
export function proxyEnv(spec: FlantIntegrationSpec): EnvVar[] {
  const p = spec.proxy;
  if (!p) return [];
  const pairs: Array<[string, string | undefined]> = [
    ['HTTP_PROXY', p.httpProxy],
    ['HTTPS_PROXY', p.httpsProxy],
    ['NO_PROXY', p.noProxy?.join(',')],
  ];
  return pairs.filter((e): e is [string, string] => Boolean(e[1])).flatMap(([name, value]) => [{ name, value }, { name: name.toLowerCase(), value }]);
}
