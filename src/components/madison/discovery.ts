/**
 * Madison backend discovery: the A records of `madison.backendsHost`, sorted byte-wise so
 * that the order DNS answers in never causes a rollout.
 */
import { Resolver } from 'node:dns/promises';

/** Resolves A records; injected so tests point it at a local DNS server. */
export interface BackendResolver {
  /** The A records of `host`; `signal` cancels the lookup. */
  resolve4(host: string, signal?: AbortSignal): Promise<string[]>;
}

/** A resolver using the system's DNS, or the given servers (`host:port`); each lookup can be cancelled on its own. */
export function dnsResolver(servers?: readonly string[], timeoutMs = 5000): BackendResolver {
  return {
    resolve4: async (host, signal) => {
      const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
      if (servers && servers.length > 0) resolver.setServers([...servers]);
      const cancel = () => resolver.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        return await resolver.resolve4(host);
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    },
  };
}

/** Byte-wise order, as Go's sort.Strings: independent of locale. */
export function sortByteWise(values: readonly string[]): string[] {
  return [...new Set(values)].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** The most backends used (and listed in the status, whose schema allows no more). */
export const maxBackends = 64;

/** The Madison backends behind `host`, sorted byte-wise, at most {@link maxBackends}; `dropped` counts the rest. */
export async function discoverBackends(
  resolver: BackendResolver,
  host: string,
  signal?: AbortSignal,
): Promise<{ backends: string[]; dropped: number }> {
  const all = sortByteWise(await resolver.resolve4(host, signal));
  return { backends: all.slice(0, maxBackends), dropped: Math.max(0, all.length - maxBackends) };
}
