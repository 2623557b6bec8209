/**
 * Where the API server is and how to authenticate to it: from a kubeconfig file or from the
 * Pod's ServiceAccount. The cases a controller meets (a token or a token file, client
 * certificates, a CA, in-cluster) are read here, with the same rules as kubectl (paths
 * relative to the kubeconfig's folder, a token file re-read at most a minute late as client-go
 * does). A user with `exec` or `auth-provider`, or anything else read here does not know, is
 * handed whole to client-node's KubeConfig, loaded only then: the package and its generated
 * API models take about 75 MiB of resident memory (bench/results/*-scale.json), which neither
 * the controller nor the exporter pays for in a Pod.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';

/** TLS material for the connection's agent. */
export interface TLSOptions {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly rejectUnauthorized?: boolean;
  readonly servername?: string;
}

/** A loaded kubeconfig: the server, its TLS material, and credentials taken for every request. */
export interface ClusterConfig {
  /** URL of the API server. */
  readonly server: string;
  /** Where the configuration came from, for messages. */
  readonly source: string;
  tls(): Promise<TLSOptions>;
  /** Request headers that authenticate (Authorization), possibly none. */
  credentials(): Promise<Record<string, string>>;
}

/** Where a Pod's ServiceAccount token, CA and namespace are mounted. */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** How long a token file is trusted before it is read again (client-go's figure). */
const tokenFileMaxAgeMs = 60_000;

/** Bearer credentials from a token file, re-read once a minute: a projected token is rotated by the kubelet. */
export function tokenFileCredentials(path: string): () => Promise<Record<string, string>> {
  let token = '';
  let readAt = -Infinity;
  return () => {
    if (Date.now() - readAt >= tokenFileMaxAgeMs) {
      token = readFileSync(path, 'utf8').trim();
      readAt = Date.now();
    }
    const headers: Record<string, string> = token ? { Authorization: `Bearer ${token}` } : {};
    return Promise.resolve(headers);
  };
}

/** The Pod's ServiceAccount, as client-go's rest.InClusterConfig reads it. */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = serviceAccountDir): ClusterConfig {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('not running in a Pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
  const ca = readFileSync(join(dir, 'ca.crt'));
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    source: 'the Pod ServiceAccount',
    tls: () => Promise.resolve({ ca }),
    credentials: tokenFileCredentials(join(dir, 'token')),
  };
}

interface Named<T> {
  readonly name?: string;
  readonly [key: string]: unknown;
  readonly cluster?: T;
  readonly user?: T;
  readonly context?: T;
}

type Fields = Record<string, unknown>;

/** The user fields read here; any other field (exec, auth-provider, username, as...) sends the file to client-node. */
const nativeUserFields = new Set(['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data']);

/** Reads a kubeconfig file: its current context's cluster and user. Throws when it cannot be read or names no cluster. */
export function kubeconfigFile(path: string): ClusterConfig {
  const doc = (parse(readFileSync(path, 'utf8')) ?? {}) as Record<string, unknown>;
  const find = (list: string, name: unknown): Fields | undefined => {
    const entries = Array.isArray(doc[list]) ? (doc[list] as Array<Named<Fields>>) : [];
    const entry = entries.find((e) => e.name === name);
    return entry?.cluster ?? entry?.user ?? entry?.context;
  };
  const context = find('contexts', doc['current-context']);
  const cluster = find('clusters', context?.cluster);
  if (!cluster || typeof cluster.server !== 'string') throw new Error('the kubeconfig has no current cluster');
  const user = find('users', context?.user) ?? {};
  if (Object.keys(user).some((k) => !nativeUserFields.has(k))) return viaClientNode(path, cluster.server);
  const base = dirname(path);
  const file = (p: unknown) => readFileSync(isAbsolute(String(p)) ? String(p) : join(base, String(p)));
  const material = (data: unknown, p: unknown) =>
    typeof data === 'string' && data ? Buffer.from(data, 'base64') : typeof p === 'string' && p ? file(p) : undefined;
  const tls: TLSOptions = {
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: material(user['client-certificate-data'], user['client-certificate']),
    key: material(user['client-key-data'], user['client-key']),
    rejectUnauthorized: cluster['insecure-skip-tls-verify'] !== true,
    servername: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  };
  const token = typeof user.token === 'string' ? user.token : '';
  const credentials =
    token !== ''
      ? () => Promise.resolve({ Authorization: `Bearer ${token}` })
      : typeof user.tokenFile === 'string' && user.tokenFile
        ? tokenFileCredentials(isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile))
        : () => Promise.resolve({});
  return { server: cluster.server, source: path, tls: () => Promise.resolve(tls), credentials };
}

/** A kubeconfig whose user needs client-node (exec plugins, auth providers...): loaded on first use. */
function viaClientNode(path: string, server: string): ClusterConfig {
  let loaded: Promise<KubeConfig> | undefined;
  const config = () =>
    (loaded ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      return kc;
    }));
  const options = async () => {
    const o: { ca?: Buffer; cert?: Buffer; key?: Buffer; rejectUnauthorized?: boolean; servername?: string; headers?: unknown } = {};
    await (await config()).applyToHTTPSOptions(o);
    return o;
  };
  return {
    server,
    source: path,
    tls: async () => {
      const { ca, cert, key, rejectUnauthorized, servername } = await options();
      return { ca, cert, key, rejectUnauthorized, servername };
    },
    credentials: async () => ({ ...(((await options()).headers as Record<string, string> | undefined) ?? {}) }),
  };
}
