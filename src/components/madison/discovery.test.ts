import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDNS } from '../../../e2e/fakes/dns.js';
import { discoverBackends, dnsResolver, sortByteWise } from './discovery.js';

describe('sortByteWise', () => {
  it('orders addresses byte by byte, not numerically, and drops duplicates', () => {
    expect(sortByteWise(['10.0.0.9', '10.0.0.10', '192.168.0.1', '10.0.0.9'])).toEqual(['10.0.0.10', '10.0.0.9', '192.168.0.1']);
  });
});

describe('discoverBackends against a local DNS server', () => {
  const dns = new FakeDNS();
  beforeAll(async () => {
    await dns.start();
  });
  afterAll(async () => {
    await dns.stop();
  });

  it('returns the A records sorted, whatever order DNS gives', async () => {
    dns.setA('madison.test', ['203.0.113.20', '203.0.113.3', '198.51.100.7']);
    expect(await discoverBackends(dnsResolver([dns.address]), 'madison.test')).toEqual({
      backends: ['198.51.100.7', '203.0.113.20', '203.0.113.3'],
      dropped: 0,
    });
  });

  it('uses at most 64 addresses, the first byte-wise, and counts the rest', async () => {
    const many = Array.from({ length: 70 }, (_, i) => `10.0.${Math.floor(i / 10)}.${i % 10}`);
    const resolver = { resolve4: async () => [...many].reverse() };
    const { backends, dropped } = await discoverBackends(resolver, 'many.test');
    expect(backends).toHaveLength(64);
    expect(backends).toEqual(sortByteWise(many).slice(0, 64));
    expect(dropped).toBe(6);
  });

  it('fails for an unknown name', async () => {
    await expect(discoverBackends(dnsResolver([dns.address]), 'nowhere.test')).rejects.toThrow(/ENOTFOUND|queryA/);
  });
});
