import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { kubeClient } from './kube.js';

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
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', authProvider: { name: 'tokenFile', config: { tokenFile } } }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const client = await kubeClient(config);
    await client.request('GET', '/version');
    writeFileSync(tokenFile, 'token-two');
    vi.setSystemTime(Date.now() + 61_000);
    await client.request('GET', '/version');
    expect(seen).toEqual(['Bearer token-one', 'Bearer token-two']);
  });
});
