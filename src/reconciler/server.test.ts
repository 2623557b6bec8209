import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseBindAddress, serve } from './server.js';

function get(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host, port, path: '/healthz' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

describe('listeners', () => {
  it.each<[string, { host: string; port: number } | undefined]>([
    [':8080', { host: '::', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:9000', { host: '::1', port: 9000 }],
    ['0', undefined],
  ])('reads %s', (address, bind) => {
    expect(parseBindAddress(address)).toEqual(bind);
  });

  it('answers on IPv6 and IPv4 when no host is given (an IPv6 single-stack cluster probes over IPv6)', async () => {
    const listener = await serve(':0', { '/healthz': async () => ({ status: 200, body: 'ok' }) });
    try {
      expect(await get('::1', listener?.port ?? 0)).toBe(200);
      expect(await get('127.0.0.1', listener?.port ?? 0)).toBe(200);
    } finally {
      await listener?.close();
    }
  });
});
