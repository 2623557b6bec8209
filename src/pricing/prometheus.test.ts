import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCertificates } from '../../e2e/fakes/madison.js';
import { instantQuery } from './prometheus.js';

// A local stand-in for Deckhouse's Prometheus, over TLS with a certificate for "localhost".
const certs = makeCertificates('localhost');
const seen: Array<{ authorization?: string; query: string | null }> = [];
let answer = '';
const server = https.createServer({ cert: certs.cert, key: certs.key }, (req, res) => {
  const url = new URL(req.url ?? '/', 'https://localhost');
  seen.push({ authorization: req.headers.authorization, query: url.searchParams.get('query') });
  res.writeHead(url.pathname === '/prom/api/v1/query' ? 200 : 404, { 'Content-Type': 'application/json' }).end(answer);
});
let base = '';

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://localhost:${(server.address() as AddressInfo).port}/prom`;
});
afterAll(() => {
  server.close();
});

describe('instantQuery', () => {
  it('asks with the token read for this request, verifying TLS, and reads the vector', async () => {
    answer = JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [{ metric: { os_image: 'Ubuntu' }, value: [1, '3'] }] } });
    let reads = 0;
    const token = async () => `token-${++reads}`;
    const ca = readFileSync(certs.caFile, 'utf8');
    expect(await instantQuery({ url: base, token, ca }, 'sum(kube_node_info) by (os_image)')).toEqual([{ labels: { os_image: 'Ubuntu' }, value: 3 }]);
    await instantQuery({ url: `${base}/`, token, ca }, 'up');
    expect(seen.slice(-2)).toEqual([
      { authorization: 'Bearer token-1', query: 'sum(kube_node_info) by (os_image)' },
      { authorization: 'Bearer token-2', query: 'up' },
    ]);
  });

  it('never sends the token over plain HTTP to a host that is not loopback, and does not even read it', async () => {
    let reads = 0;
    const token = async () => `token-${++reads}`;
    await expect(instantQuery({ url: 'http://prometheus.example:9090', token }, 'up')).rejects.toThrow(
      'refusing to send the ServiceAccount token to http://prometheus.example:9090: Prometheus must be reached over https',
    );
    expect(reads).toBe(0);
  });

  it('refuses a certificate it cannot verify', async () => {
    await expect(instantQuery({ url: base, token: async () => undefined }, 'up')).rejects.toThrow(/certificate/);
  });

  it.each([
    ['an error answer', JSON.stringify({ status: 'error', error: 'bad query' }), 'query up: bad query'],
    ['a matrix', JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }), 'expected a vector, got matrix'],
    ['garbage', 'not json', /JSON/],
  ])('fails on %s', async (_name, body, message) => {
    answer = body;
    await expect(instantQuery({ url: base, token: async () => undefined, ca: readFileSync(certs.caFile, 'utf8') }, 'up')).rejects.toThrow(message);
  });
});
