import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inClusterConfig, kubeconfigFile } from './kubeconfig.js';

/** Writes `doc` as the kubeconfig `config` in a new folder and returns its path. */
function kubeconfig(doc: Record<string, unknown>, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  writeFileSync(join(dir, 'config'), JSON.stringify(doc));
  return join(dir, 'config');
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

function withUser(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://10.0.0.1:6443' }) {
  return {
    'current-context': 'b',
    contexts: [
      { name: 'a', context: { cluster: 'other', user: 'other' } },
      { name: 'b', context: { cluster: 'mine', user: 'me' } },
    ],
    clusters: [
      { name: 'other', cluster: { server: 'https://wrong.example' } },
      { name: 'mine', cluster },
    ],
    users: [
      { name: 'other', user: { token: 'wrong' } },
      { name: 'me', user },
    ],
  };
}

describe('kubeconfigFile', () => {
  it("reads the current context's cluster and user: a token, the CA and client certificates as data", async () => {
    const config = kubeconfigFile(
      kubeconfig(
        withUser(
          { token: 'tok', 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY') },
          { server: 'https://10.0.0.1:6443', 'certificate-authority-data': b64('CA'), 'tls-server-name': 'api.internal' },
        ),
      ),
    );
    expect(config.server).toBe('https://10.0.0.1:6443');
    const tls = await config.tls();
    expect([tls.ca?.toString(), tls.cert?.toString(), tls.key?.toString(), tls.rejectUnauthorized, tls.servername]).toEqual([
      'CA',
      'CERT',
      'KEY',
      true,
      'api.internal',
    ]);
    expect(await config.credentials()).toEqual({ Authorization: 'Bearer tok' });
  });

  it('reads files relative to the kubeconfig, as kubectl does, and honours insecure-skip-tls-verify', async () => {
    const path = kubeconfig(
      withUser(
        { 'client-certificate': 'pki/me.crt', 'client-key': 'pki/me.key', tokenFile: 'token' },
        { server: 'https://10.0.0.1:6443', 'certificate-authority': 'pki/ca.crt', 'insecure-skip-tls-verify': true },
      ),
      { 'pki/ca.crt': 'CA-FILE', 'pki/me.crt': 'CERT-FILE', 'pki/me.key': 'KEY-FILE', token: 'file-token\n' },
    );
    const config = kubeconfigFile(path);
    const tls = await config.tls();
    expect([tls.ca?.toString(), tls.cert?.toString(), tls.key?.toString(), tls.rejectUnauthorized]).toEqual([
      'CA-FILE',
      'CERT-FILE',
      'KEY-FILE',
      false,
    ]);
    expect(await config.credentials()).toEqual({ Authorization: 'Bearer file-token' });
  });

  it('sends no credentials for a user with none', async () => {
    expect(await kubeconfigFile(kubeconfig(withUser({}))).credentials()).toEqual({});
  });

  it('fails with a sentence when no current context names a cluster, or the file is not there', () => {
    expect(() => kubeconfigFile(kubeconfig({ ...withUser({}), 'current-context': 'missing' }))).toThrow('the kubeconfig has no current cluster');
    expect(() => kubeconfigFile(kubeconfig({}))).toThrow('the kubeconfig has no current cluster');
    expect(() => kubeconfigFile('/nonexistent/kubeconfig')).toThrow(/ENOENT/);
  });
});

describe('inClusterConfig', () => {
  it("uses the service's address (an IPv6 one in brackets), the mounted CA and the token file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sa-'));
    writeFileSync(join(dir, 'ca.crt'), 'SA-CA');
    writeFileSync(join(dir, 'token'), 'sa-token');
    const v4 = inClusterConfig({ KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }, dir);
    expect(v4.server).toBe('https://10.96.0.1:443');
    expect((await v4.tls()).ca?.toString()).toBe('SA-CA');
    expect(await v4.credentials()).toEqual({ Authorization: 'Bearer sa-token' });
    expect(inClusterConfig({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir).server).toBe('https://[fd00::1]:443');
  });

  it('says it is not in a Pod when the service variables are missing', () => {
    expect(() => inClusterConfig({}, '/nonexistent')).toThrow('not running in a Pod');
  });
});
