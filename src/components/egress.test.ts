import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../api/index.js';
import type { Secret } from '../flantintegration/index.js';
import { proxyEnv, resolveEgress } from './egress.js';

const spec = (proxy: Record<string, unknown>) => flantIntegrationSpecSchema.parse({ namespace: 'ns', proxy });
const credentials: Secret = {
  metadata: { namespace: 'ns', name: 'egress' },
  data: { username: Buffer.from('al ice').toString('base64'), password: Buffer.from('p@ss:w').toString('base64') },
};
const ctx = (s: ReturnType<typeof spec>, secrets: Secret[] = [credentials]) => ({
  spec: s,
  secrets: (namespace: string, name: string) => secrets.find((x) => x.metadata?.namespace === namespace && x.metadata?.name === name),
  secretNamespaces: ['ns'],
  forbiddenSecretNamespaces: [],
});

describe('the egress proxy', () => {
  it('refuses credentials written into a proxy URL: they belong in a Secret', () => {
    expect(flantIntegrationSpecSchema.safeParse({ proxy: { httpsProxy: 'http://user:pass@proxy:3128' } }).success).toBe(false);
  });

  it('puts the credentials of the Secret into the URLs the controller uses, encoded, in memory only', () => {
    const egress = resolveEgress(ctx(spec({ httpsProxy: 'http://proxy:3128', credentialsSecretRef: { namespace: 'ns', name: 'egress' } })));
    expect(egress).toMatchObject({ settings: { httpsProxy: 'http://al%20ice:p%40ss%3Aw@proxy:3128' }, userinfo: 'al%20ice:p%40ss%3Aw' });
    expect('secrets' in egress && egress.secrets).toEqual(['al ice', 'p@ss:w', 'al%20ice:p%40ss%3Aw']);
  });

  it("uses the credentials the cluster's global proxy carried (Deckhouse's ClusterConfiguration) as those of a Secret", () => {
    const egress = resolveEgress({ ...ctx(spec({ httpsProxy: 'http://proxy:3128' })), proxyUserinfo: 'al%20ice:p%40ss' });
    expect(egress).toMatchObject({ settings: { httpsProxy: 'http://al%20ice:p%40ss@proxy:3128' }, userinfo: 'al%20ice:p%40ss' });
    expect('secrets' in egress && egress.secrets).toEqual(['al%20ice:p%40ss', 'al ice', 'p@ss']);
    expect(proxyEnv(spec({ httpsProxy: 'http://proxy:3128' }), 'pricing-egress')).toContainEqual({
      name: 'HTTPS_PROXY',
      value: 'http://$(EGRESS_PROXY_USERINFO)@proxy:3128',
    });
  });

  it('says which Secret or key is missing', () => {
    const missing = resolveEgress(ctx(spec({ httpsProxy: 'http://proxy:3128', credentialsSecretRef: { namespace: 'ns', name: 'egress' } }), []));
    expect(missing).toMatchObject({
      reason: 'SecretNotFound',
      message: expect.stringContaining('spec.proxy.credentialsSecretRef: Secret ns/egress not found'),
    });
    const noPassword = resolveEgress(
      ctx(spec({ httpsProxy: 'http://proxy:3128', credentialsSecretRef: { namespace: 'ns', name: 'egress' } }), [
        { ...credentials, data: { username: 'YQ==' } },
      ]),
    );
    expect(noPassword).toMatchObject({ reason: 'KeyNotFound' });
  });

  it('gives a workload the credentials through its Secret and $(EGRESS_PROXY_USERINFO), never in clear', () => {
    const s = spec({ httpsProxy: 'http://proxy:3128', noProxy: ['10.0.0.0/8'], credentialsSecretRef: { namespace: 'ns', name: 'egress' } });
    expect(proxyEnv(s, 'component-egress')).toEqual([
      { name: 'EGRESS_PROXY_USERINFO', valueFrom: { secretKeyRef: { name: 'component-egress', key: 'userinfo' } } },
      { name: 'HTTPS_PROXY', value: 'http://$(EGRESS_PROXY_USERINFO)@proxy:3128' },
      { name: 'https_proxy', value: 'http://$(EGRESS_PROXY_USERINFO)@proxy:3128' },
      { name: 'NO_PROXY', value: '10.0.0.0/8' },
      { name: 'no_proxy', value: '10.0.0.0/8' },
    ]);
    expect(proxyEnv(spec({ httpsProxy: 'http://proxy:3128' }))).toEqual([
      { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
      { name: 'https_proxy', value: 'http://proxy:3128' },
    ]);
  });
});
