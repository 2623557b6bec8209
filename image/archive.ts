/**
 * Reproducible layers and the image archive. A layer is a folder made into a tar by GNU tar
 * with the reproducible-builds options (names sorted, one fixed mtime, owner root, no atime
 * or ctime), so the same folder gives the same bytes, hence the same digest, on every build.
 * The archive holds both an OCI image layout (`index.json`, `blobs/sha256/`) and Docker's
 * `manifest.json` beside it, as `docker save` writes since Docker 25: `docker load` of any
 * version, `ctr images import` and `kind load image-archive` all take it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A layer written into the archive's blobs. */
export interface Layer {
  /** sha256 of the (uncompressed) tar: its digest and its diff ID alike. */
  readonly digest: string;
  readonly size: number;
  /** What it holds, for the image's history. */
  readonly comment: string;
}

/** One entry to tar with an owner other than root: a path below the layer's folder and its uid/gid. */
export interface OwnedPath {
  readonly path: string;
  readonly uid: number;
}

/** The image's runtime configuration (the OCI config's `config`). */
export interface RuntimeConfig {
  readonly User: string;
  readonly Env: readonly string[];
  readonly Entrypoint: readonly string[];
  readonly Cmd: readonly string[];
  readonly WorkingDir: string;
  readonly Labels: Readonly<Record<string, string>>;
}

/** What identifies a written image. */
export interface ImageDigests {
  /** The config's digest: Docker's image ID. */
  readonly imageId: string;
  /** The OCI manifest's digest: what containerd and registries name the image by. */
  readonly manifestDigest: string;
  readonly layers: readonly Layer[];
}

function tarOptions(epoch: number): string[] {
  return [
    '--sort=name',
    `--mtime=@${epoch}`,
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
  ];
}

/**
 * Tars every entry of `dir` (owned by root; `owned` paths by their uid) into the archive's
 * blobs and returns its digest. `normalizeModes` clears group and other write bits and gives
 * them read (and search, where the owner has it), so a checkout's umask does not change the bytes.
 */
export async function writeLayer(
  dir: string,
  blobs: string,
  epoch: number,
  comment: string,
  options: { owned?: readonly OwnedPath[]; normalizeModes?: boolean } = {},
): Promise<Layer> {
  const owned = options.owned ?? [];
  const partial = join(blobs, `layer-${process.pid}-${Date.now()}.tar`);
  const modes = options.normalizeModes ? ['--mode=u+rw,go+rX,go-w'] : [];
  const entries = (await readdir(dir)).sort().map((e) => `./${e}`);
  const exclude = owned.map((o) => `--exclude=./${o.path}`);
  await tar([
    '--create',
    `--file=${partial}`,
    `--directory=${dir}`,
    ...tarOptions(epoch),
    '--owner=0',
    '--group=0',
    ...modes,
    ...exclude,
    ...entries,
  ]);
  for (const o of owned) {
    await tar([
      '--append',
      `--file=${partial}`,
      `--directory=${dir}`,
      ...tarOptions(epoch),
      `--owner=${o.uid}`,
      `--group=${o.uid}`,
      '--no-recursion',
      `./${o.path}`,
    ]);
  }
  const digest = await sha256File(partial);
  await rename(partial, join(blobs, digest));
  return { digest, size: (await stat(join(blobs, digest))).size, comment };
}

async function tar(args: readonly string[]): Promise<void> {
  try {
    await run('tar', args, { maxBuffer: 16 * 1024 * 1024 });
  } catch (err) {
    throw new Error(`tar failed: ${(err as { stderr?: string }).stderr?.trim() ?? String(err)}`, { cause: err });
  }
}

/** Writes the config, the OCI manifest and index, and Docker's manifest.json for `layers` into the layout folder `dir`. */
export async function writeImage(dir: string, layers: readonly Layer[], config: RuntimeConfig, epoch: number, tag: string): Promise<ImageDigests> {
  const blobs = join(dir, 'blobs', 'sha256');
  const created = new Date(epoch * 1000).toISOString();
  const imageConfig = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${l.digest}`) },
    history: layers.map((l) => ({ created, created_by: 'npm run image', comment: l.comment })),
  };
  const configBlob = await writeBlob(blobs, imageConfig);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configBlob.digest}`, size: configBlob.size },
    layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${l.digest}`, size: l.size })),
  };
  const manifestBlob = await writeBlob(blobs, manifest);
  const reference = tag.includes('/') ? tag : `docker.io/library/${tag}`;
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: `sha256:${manifestBlob.digest}`,
        size: manifestBlob.size,
        annotations: { 'io.containerd.image.name': reference, 'org.opencontainers.image.ref.name': tag.split(':').pop() ?? 'latest' },
      },
    ],
  };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const dockerManifest = [{ Config: `blobs/sha256/${configBlob.digest}`, RepoTags: [tag], Layers: layers.map((l) => `blobs/sha256/${l.digest}`) }];
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(dockerManifest));
  return { imageId: `sha256:${configBlob.digest}`, manifestDigest: `sha256:${manifestBlob.digest}`, layers };
}

/** Tars the layout folder into one archive file, reproducibly too. */
export async function writeArchive(dir: string, file: string, epoch: number): Promise<void> {
  const entries = (await readdir(dir)).sort();
  await tar(['--create', `--file=${file}`, `--directory=${dir}`, ...tarOptions(epoch), '--owner=0', '--group=0', ...entries]);
}

async function writeBlob(blobs: string, value: unknown): Promise<{ digest: string; size: number }> {
  const bytes = Buffer.from(JSON.stringify(value));
  const digest = createHash('sha256').update(bytes).digest('hex');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(blobs, digest), bytes);
  return { digest, size: bytes.length };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
