import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeEgressProxy } from '../../e2e/fakes/egress.js';
import { displayURL, maxAnswerBytes, postJSON, proxyAuthorization, proxyFor, tunnel } from './http.js';

describe('proxyFor and NO_PROXY', () => {
  const proxy = (noProxy: string[]) => ({ httpsProxy: 'http://proxy:3128', noProxy });
  it.each<[string, string, string[], boolean]>([
    ['a host', 'https://connect.example.com', ['connect.example.com'], true],
    ['a domain suffix with a dot', 'https://a.svc.cluster.local', ['.cluster.local'], true],
    ['a domain suffix without a dot', 'https://a.svc.cluster.local', ['cluster.local'], true],
    ['not a suffix that only ends alike', 'https://evilcluster.local', ['cluster.local'], false],
    ['an IPv4 CIDR', 'https://10.1.2.3:8443', ['10.0.0.0/8'], true],
    ['outside an IPv4 CIDR', 'https://11.0.0.1', ['10.0.0.0/8'], false],
    ['a host name is no IP of a CIDR', 'https://ten.example.com', ['10.0.0.0/8'], false],
    ['an IPv6 CIDR', 'https://[fd00::1]', ['fd00::/8'], true],
    ['host:port on that port', 'https://connect.example.com:8443', ['connect.example.com:8443'], true],
    ['host:port on another port', 'https://connect.example.com', ['connect.example.com:8443'], false],
    ['*', 'https://anything', ['*'], true],
  ])('%s', (_name, target, noProxy, bypassed) => {
    expect(proxyFor(new URL(target), proxy(noProxy)) === undefined).toBe(bypassed);
  });
});

/** Opens one tunnel through `egress` (at `url`) to a local server, then closes everything. */
async function tunnelToLocalServer(url: URL, egress: FakeEgressProxy): Promise<void> {
  const target = http.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => target.once('listening', r));
  const socket = await tunnel(url, '127.0.0.1', (target.address() as AddressInfo).port, 2000);
  socket.destroy();
  target.close();
  await egress.stop();
}

describe('proxy credentials', () => {
  it('become Proxy-Authorization, and never show in a logged URL', () => {
    expect(proxyAuthorization(new URL('http://us%40er:p%3Ass@proxy:3128'))).toEqual({
      'Proxy-Authorization': `Basic ${Buffer.from('us@er:p:ss').toString('base64')}`,
    });
    expect(proxyAuthorization(new URL('http://proxy:3128'))).toEqual({});
    expect(displayURL('https://user:secret@connect.example.com/x')).toBe('https://connect.example.com/x');
  });

  it('are sent with CONNECT', async () => {
    const egress = new FakeEgressProxy();
    const url = new URL(await egress.start());
    url.username = 'alice';
    url.password = 's3cret';
    await tunnelToLocalServer(url, egress);
    expect(egress.authorizations).toEqual([`Basic ${Buffer.from('alice:s3cret').toString('base64')}`]);
  });
});

describe('CONNECT tunnels', () => {
  it('go through a proxy given as an IPv6 literal ([::1])', async () => {
    const egress = new FakeEgressProxy();
    await tunnelToLocalServer(new URL(await egress.start('::1')), egress);
    expect(egress.tunnels).toHaveLength(1);
  });

  it('close a tunnel that opens after the deadline gave up on it: no socket is left behind', async () => {
    // A proxy that answers CONNECT only at ~400 ms, then tells whether the client closed the tunnel.
    let closedByClient: Promise<void> = Promise.resolve();
    const slow = net.createServer((socket) => {
      closedByClient = new Promise((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => undefined);
      socket.resume();
      // The answer trickles in (so no idle timeout fires) and is complete at ~400 ms, past the 150 ms deadline.
      const parts = ['HTTP/1.1 200 Connection Established\r\n', 'Via: slow\r\n', 'X-A: 1\r\n', '\r\n'];
      parts.forEach((part, i) => setTimeout(() => socket.writable && socket.write(part), 100 * (i + 1)));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const proxy = { httpsProxy: `http://127.0.0.1:${(slow.address() as AddressInfo).port}` };
    await expect(postJSON(new URL('https://connect.example.test/v1/x'), {}, {}, proxy, 150)).rejects.toThrow('no answer within 0.15 s');
    const closed = await Promise.race([closedByClient.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
    slow.close();
    expect(closed, 'the tunnel socket was closed').toBe(true);
  });
});

describe('postJSON bounds', () => {
  let server: http.Server;
  let base = '';
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/trickle') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{');
        const timer = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(`{"error":"${'x'.repeat(maxAnswerBytes + 10)}"}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('cuts off an answer that trickles past the deadline (an idle timeout would not)', async () => {
    await expect(postJSON(new URL(`${base}/trickle`), {}, {}, undefined, 300)).rejects.toThrow('no answer within 0.3 s');
  });

  it('keeps its deadline with a leadership signal through garbage collections (nodejs/node#57736)', async () => {
    // On Node 20 a timeout signal combined with AbortSignal.any can be collected before it fires.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const leading = new AbortController();
    const collect = setInterval(gc, 20);
    try {
      const started = Date.now();
      await expect(postJSON(new URL(`${base}/trickle`), {}, {}, undefined, 300, leading.signal)).rejects.toThrow('no answer within 0.3 s');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      clearInterval(collect);
    }
  });

  it('refuses an answer over the size limit', async () => {
    await expect(postJSON(new URL(`${base}/big`), {}, {}, undefined, 5000)).rejects.toThrow(`over the ${maxAnswerBytes}-byte limit`);
  });
});
