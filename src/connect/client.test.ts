import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeConnect } from '../../e2e/fakes/connect.js';
import { ConnectClient, ConnectHTTPError, ConnectUnreachableError, registrationBody } from './client.js';
import { proxyFor } from './http.js';

const licence = 'LIC-unit-123';

describe('registrationBody', () => {
  it('sends type prometheus only when a URL is known, and "-" for unknown URLs', () => {
    const unknown = JSON.parse(registrationBody({ labels: { cluster_uuid: 'u' } }).madisonData) as Record<string, unknown>;
    expect(unknown).toEqual({ name: '', prometheus_url: '-', grafana_url: '-', extra_data: { labels: { cluster_uuid: 'u' } } });
    const known = JSON.parse(registrationBody({ prometheusURL: 'https://p', labels: {} }).madisonData) as Record<string, unknown>;
    expect(known).toMatchObject({ type: 'prometheus', prometheus_url: 'https://p', grafana_url: '-' });
  });
});

describe('ConnectClient against a local Connect stand-in', () => {
  const fake = new FakeConnect(licence);
  let client: ConnectClient;
  beforeAll(async () => {
    client = new ConnectClient({ url: await fake.start(), licence });
  });
  afterAll(async () => {
    await fake.stop();
  });

  it('registers with the license as bearer token and returns the issued key', async () => {
    const key = await client.registerMadison({ labels: { cluster_uuid: 'u' } });
    expect(key).toBe(fake.issued[0]);
    const request = fake.requests('/v1/madison_register')[0];
    expect(request?.authorization).toBe(`Bearer ${licence}`);
    expect(JSON.parse(request?.body ?? '{}')).toHaveProperty('madisonData');
  });

  it('reports a failure as "<code> <status text>: <error>"', async () => {
    fake.failRegistration(500, 'database is down');
    await expect(client.registerMadison({ labels: {} })).rejects.toThrow(new ConnectHTTPError(500, 'Internal Server Error', 'database is down'));
    fake.recover();
  });

  it('says revoked only for 401 "Archived setup"', async () => {
    const key = await client.registerMadison({ labels: {} });
    expect(await client.madisonKeyState(key)).toBe('active');
    fake.revoke(key);
    expect(await client.madisonKeyState(key)).toBe('revoked');
    const wrongLicence = new ConnectClient({ url: fake.url, licence: 'other' });
    await expect(wrongLicence.madisonKeyState(key)).rejects.toThrow('401 Unauthorized: Invalid license');
  });

  it('keeps the license out of error messages when Connect is unreachable', async () => {
    const dead = new ConnectClient({ url: 'http://127.0.0.1:1', licence, timeoutMs: 2000 });
    const err = await dead.registerMadison({ labels: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectUnreachableError);
    expect(String((err as Error).message)).not.toContain(licence);
  });
});

describe('proxyFor', () => {
  const proxy = { httpProxy: 'http://p:3128', httpsProxy: 'http://s:3128', noProxy: ['.internal', 'exact.host'] };
  it.each([
    ['https://connect.deckhouse.io', 'http://s:3128/'],
    ['http://plain.example', 'http://p:3128/'],
    ['https://a.internal', undefined],
    ['https://exact.host', undefined],
  ])('%s goes through %s', (target, want) => {
    expect(proxyFor(new URL(target), proxy)?.href).toBe(want);
  });
});

describe('ConnectClient against a server that echoes what it gets', () => {
  let server: import('node:http').Server;
  let url = '';
  let answer: (auth: string, body: string) => { status: number; body: unknown } = () => ({ status: 200, body: {} });
  beforeAll(async () => {
    const http = await import('node:http');
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const a = answer(req.headers.authorization ?? '', Buffer.concat(chunks).toString());
        res.writeHead(a.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it('scrubs the license and the key it sent out of the error a server echoes', async () => {
    answer = (auth, body) => ({ status: 403, body: { error: `denied for ${auth} with ${body}` } });
    const client = new ConnectClient({ url, licence });
    const err = (await client.madisonKeyState('MADISON-KEY-42').catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(ConnectHTTPError);
    expect(err.message).toContain('403 Forbidden: denied for Bearer [REDACTED] with {"auth_key":"[REDACTED]"}');
    expect(err.message).not.toContain(licence);
    expect(err.message).not.toContain('MADISON-KEY-42');
  });

  it.each([
    ['no auth_key', {}],
    ['an empty auth_key', { auth_key: '  ' }],
    ['an auth_key that is not a string', { auth_key: { nested: true } }],
  ])('refuses a registration answer with %s', async (_name, body) => {
    answer = () => ({ status: 200, body });
    await expect(new ConnectClient({ url, licence }).registerMadison({ labels: {} })).rejects.toThrow('200 OK: the answer has no auth_key string');
  });
});
