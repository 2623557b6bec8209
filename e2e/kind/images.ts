/**
 * The images the kind suite loads besides the product's, each derived from the product
 * image (`npm run image`) by adding files in one more layer (docker create, cp, commit), so
 * nothing is pulled:
 * - `flant-integration-controller:kind-e2e`: the product, unchanged but for the suite's CA
 *   (NODE_EXTRA_CA_CERTS), so the controller and madison-proxy trust the stand-ins as they
 *   trust Flant's services through the public CAs;
 * - `flant-integration-standins:kind-e2e`: Node with the Madison and Connect stand-ins, and
 *   Debian's `hey` (it needs only libc), the load generator of the bench;
 * - `flant-integration-prometheus:kind-e2e`: Debian's Prometheus (it needs only libc, which
 *   the product's base has), the real alert sender, trusting the suite's CA too;
 * - `flant-integration-alloy:kind-e2e`: Grafana Alloy built here (e2e/alloy, static), the
 *   metrics agent, trusting the suite's CA alone (SSL_CERT_FILE) as it trusts Connect's
 *   public CA in a real cluster; its entrypoint is `alloy`, like Grafana's own image.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { nonrootUid } from '../../image/debian.js';

const run = promisify(execFile);

/** Where the suite's CA is in the derived images. */
export const caPath = '/etc/flant-e2e/ca.pem';

/** Tags of the derived images. */
export const kindImages = {
  controller: 'flant-integration-controller:kind-e2e',
  standins: 'flant-integration-standins:kind-e2e',
  prometheus: 'flant-integration-prometheus:kind-e2e',
  alloy: 'flant-integration-alloy:kind-e2e',
} as const;

/** A CA made for one run and a server certificate signed by it for `names`. */
export interface Certificates {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Makes the suite's CA and one server certificate (openssl) for every stand-in's name. */
export async function makeCertificates(dir: string, names: readonly string[]): Promise<Certificates> {
  await mkdir(dir, { recursive: true });
  const openssl = (args: string[]) => run('openssl', args, { cwd: dir });
  await openssl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=flant-e2e-kind-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  ]);
  await openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${names[0] ?? 'standins'}`, '-keyout', 'tls.key', '-out', 'tls.csr']);
  await writeFile(join(dir, 'ext.cnf'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
  await openssl([
    'x509',
    '-req',
    '-in',
    'tls.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'tls.crt',
  ]);
  return { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
}

/** A file or folder to add: from the host to a path in the image. */
interface Added {
  readonly from: string;
  readonly to: string;
}

/** Commits `from` plus `added` (owned by root, world-readable) as `tag`, with Dockerfile-style `changes`. */
async function derive(env: NodeJS.ProcessEnv, from: string, tag: string, added: readonly Added[], changes: readonly string[]): Promise<void> {
  const docker = async (args: readonly string[]) => (await run('docker', args, { env, maxBuffer: 16 * 1024 * 1024 })).stdout.trim();
  const id = await docker(['create', from]);
  try {
    for (const a of added) await docker(['cp', '--archive=false', a.from, `${id}:${a.to}`]);
    await docker(['commit', ...changes.flatMap((c) => ['--change', c]), id, tag]);
  } finally {
    await docker(['rm', '-f', id]).catch(() => undefined);
  }
}

/** Builds the derived images from the product image `product`. */
export async function buildKindImages(
  env: NodeJS.ProcessEnv,
  product: string,
  root: string,
  certs: Certificates,
  binaries: { prometheus: string; hey: string; alloy: string },
): Promise<void> {
  // docker cp makes no parent folders, so the CA goes in as a folder holding only ca.pem (never the key).
  const staging = join(certs.caFile, '..', 'image-ca');
  await mkdir(staging, { recursive: true });
  await run('cp', [certs.caFile, join(staging, 'ca.pem')]);
  const ca = { from: staging, to: caPath.slice(0, caPath.lastIndexOf('/')) };
  const trust = `ENV NODE_EXTRA_CA_CERTS=${caPath}`;
  await derive(env, product, kindImages.controller, [ca], [trust]);
  await derive(
    env,
    product,
    kindImages.standins,
    [ca, { from: join(root, 'dist', 'e2e'), to: '/app/dist/e2e' }, { from: binaries.hey, to: '/usr/bin/hey' }],
    [trust, 'ENTRYPOINT ["/nodejs/bin/node", "/app/dist/e2e/kind/standins.js"]', 'CMD []'],
  );
  await derive(
    env,
    product,
    kindImages.prometheus,
    [ca, { from: binaries.prometheus, to: '/usr/bin/prometheus' }],
    [`USER ${nonrootUid}:${nonrootUid}`, 'ENTRYPOINT ["/usr/bin/prometheus"]', 'CMD []'],
  );
  await derive(
    env,
    product,
    kindImages.alloy,
    [ca, { from: binaries.alloy, to: '/usr/bin/alloy' }],
    [`ENV SSL_CERT_FILE=${caPath}`, `USER ${nonrootUid}:${nonrootUid}`, 'ENTRYPOINT ["/usr/bin/alloy"]', 'CMD []'],
  );
}
