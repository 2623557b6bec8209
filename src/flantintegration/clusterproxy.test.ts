import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../api/index.js';
import { clusterProxy, withClusterProxy } from './clusterproxy.js';
import type { Secret } from './licence.js';

/** The Secret as Deckhouse writes it: the ClusterConfiguration YAML under cluster-configuration.yaml. */
const configuration = (yaml: string): Secret => ({
  metadata: { namespace: 'kube-system', name: 'd8-cluster-configuration' },
  data: { 'cluster-configuration.yaml': Buffer.from(yaml).toString('base64') },
});

const deckhouse = `apiVersion: deckhouse.io/v1
kind: ClusterConfiguration
clusterType: Static
clusterDomain: cluster.local
podSubnetCIDR: 10.111.0.0/16
serviceSubnetCIDR: 10.222.0.0/16
`;

describe("the cluster's global proxy (Deckhouse's ClusterConfiguration)", () => {
  it.each([
    ['no Secret', undefined],
    ['no proxy section', configuration(deckhouse)],
    ['an empty proxy section', configuration(`${deckhouse}proxy: {}\n`)],
  ])('is none with %s', (_, secret) => {
    expect(clusterProxy(secret)).toEqual({});
  });

  it('takes the proxy and adds to NO_PROXY what Deckhouse adds: 127.0.0.1, 169.254.169.254, the cluster domain, the pod and service CIDRs', () => {
    const found = clusterProxy(
      configuration(`${deckhouse}proxy:\n  httpProxy: http://proxy.corp:3128\n  httpsProxy: https://proxy.corp:3129\n  noProxy: [registry.corp]\n`),
    );
    expect(found).toEqual({
      proxy: {
        httpProxy: 'http://proxy.corp:3128',
        httpsProxy: 'https://proxy.corp:3129',
        noProxy: ['registry.corp', '127.0.0.1', '169.254.169.254', 'cluster.local', '10.111.0.0/16', '10.222.0.0/16'],
      },
    });
  });

  it('takes the credentials out of the URLs (Deckhouse allows them there) and hands them on apart', () => {
    const found = clusterProxy(configuration(`${deckhouse}proxy:\n  httpsProxy: http://us%40r:p%3Ass@proxy.corp:3128\n`));
    expect(found.proxy?.httpsProxy).toBe('http://proxy.corp:3128');
    expect(found.userinfo).toBe('us%40r:p%3Ass');
    expect(JSON.stringify(found.proxy)).not.toContain('p%3Ass');
  });

  it.each([
    ['YAML that does not parse', 'proxy: [\n', 'is not YAML'],
    ['a URL of another scheme', `${deckhouse}proxy:\n  httpProxy: socks5://proxy.corp:1080\n`, 'proxy.httpProxy'],
    ['a URL that is not a string', `${deckhouse}proxy:\n  httpsProxy: [a]\n`, 'not a string'],
    [
      'different credentials in the two URLs',
      `${deckhouse}proxy:\n  httpProxy: http://a:b@p:1\n  httpsProxy: http://c:d@p:1\n`,
      'different credentials',
    ],
  ])('refuses %s, naming the Secret and never a value', (_, yaml, problem) => {
    const found = clusterProxy(configuration(yaml));
    expect(found.proxy).toBeUndefined();
    expect(found.problem).toContain('Secret kube-system/d8-cluster-configuration');
    expect(found.problem).toContain(problem);
    expect(found.problem).not.toMatch(/a:b|c:d/);
  });

  it('is used only when spec.proxy is empty: the spec wins', () => {
    const cluster = clusterProxy(configuration(`${deckhouse}proxy:\n  httpsProxy: http://proxy.corp:3128\n`));
    const bare = flantIntegrationSpecSchema.parse({});
    expect(withClusterProxy(bare, cluster).proxy?.httpsProxy).toBe('http://proxy.corp:3128');
    const own = flantIntegrationSpecSchema.parse({ proxy: { httpsProxy: 'http://mine:8080' } });
    expect(withClusterProxy(own, cluster).proxy).toEqual({ httpsProxy: 'http://mine:8080' });
  });
});
