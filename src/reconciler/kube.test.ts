import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kubeClient } from './kube.js';
import { kubeconfigFile } from './kubeconfig.js';

const seen: string[] = [];
const server = http.createServer((req, res) => {
  seen.push(req.headers.authorization ?? '');
  res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
});
let port = 0;

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.close();
  vi.useRealTimers();
});

describe('kubeClient credentials', () => {
  it('re-reads a rotated ServiceAccount token file, as client-go does (at most a minute late)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const tokenFile = join(mkdtempSync(join(tmpdir(), 'token-')), 'token');
    writeFileSync(tokenFile, 'token-one');
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    writeFileSync(
      join(dir, 'config'),
      JSON.stringify({
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
        users: [{ name: 'u', user: { tokenFile } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const config = kubeconfigFile(join(dir, 'config'));
    const client = await kubeClient(config);
    await client.request('GET', '/version');
    writeFileSync(tokenFile, 'token-two');
    vi.setSystemTime(Date.now() + 61_000);
    await client.request('GET', '/version');
    expect(seen).toEqual(['Bearer token-one', 'Bearer token-two']);
  });

  it("takes an exec plugin's token through client-node, loaded only for such a kubeconfig", async () => {
    seen.length = 0;
    const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-'));
    const credential = { apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: 'from-exec' } };
    writeFileSync(join(dir, 'plugin.sh'), `#!/bin/sh\necho '${JSON.stringify(credential)}'\n`, { mode: 0o755 });
    writeFileSync(
      join(dir, 'config'),
      JSON.stringify({
        clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
        users: [
          { name: 'u', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: join(dir, 'plugin.sh'), interactiveMode: 'Never' } } },
        ],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'x',
      }),
    );
    const client = await kubeClient(kubeconfigFile(join(dir, 'config')));
    await client.request('GET', '/version');
    expect(seen).toEqual(['Bearer from-exec']);
  });
});
