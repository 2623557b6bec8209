import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeImage, writeLayer } from './archive.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'archive-test-'));
  dirs.push(dir);
  return dir;
}

/** A small tree; `variant` changes what a checkout may change without changing content: mtimes and group/other modes. */
async function tree(variant: number): Promise<string> {
  const dir = await tempDir();
  await mkdir(join(dir, 'app/bin'), { recursive: true });
  await mkdir(join(dir, 'home/nonroot'), { recursive: true });
  await writeFile(join(dir, 'app/bin/run.js'), 'console.log(1)\n');
  await writeFile(join(dir, 'app/a.txt'), 'a\n');
  await chmod(join(dir, 'app/bin/run.js'), variant ? 0o775 : 0o755);
  await chmod(join(dir, 'app/a.txt'), variant ? 0o664 : 0o644);
  await utimes(join(dir, 'app/a.txt'), 1000 + variant, 1000 + variant);
  return dir;
}

afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

describe('writeLayer', () => {
  it('gives the same digest for the same content whatever the mtimes and the umask', async () => {
    const blobs = await tempDir();
    const [a, b] = [
      await writeLayer(await tree(0), blobs, 1_700_000_000, 'a', { normalizeModes: true }),
      await writeLayer(await tree(1), blobs, 1_700_000_000, 'b', { normalizeModes: true }),
    ];
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.digest).toBe(a.digest);
  });

  it('gives another digest for another epoch', async () => {
    const blobs = await tempDir();
    const dir = await tree(0);
    expect((await writeLayer(dir, blobs, 1, 'a')).digest).not.toBe((await writeLayer(dir, blobs, 2, 'b')).digest);
  });

  it('writes entries sorted, owned by root, and the owned paths by their uid', async () => {
    const blobs = await tempDir();
    const layer = await writeLayer(await tree(0), blobs, 1_700_000_000, 'a', { owned: [{ path: 'home/nonroot', uid: 65532 }] });
    const listing = execFileSync('tar', ['-tvf', join(blobs, layer.digest), '--numeric-owner'], { encoding: 'utf8' })
      .trim()
      .split('\n');
    const owners = Object.fromEntries(listing.map((l) => [l.split(/\s+/).at(-1) ?? '', l.split(/\s+/)[1] ?? '']));
    expect(owners['./app/bin/run.js']).toBe('0/0');
    expect(owners['./home/nonroot/']).toBe('65532/65532');
    const names = listing.map((l) => l.split(/\s+/).at(-1) ?? '').filter((n) => n !== './home/nonroot/');
    expect(names).toEqual([...names].sort());
  });
});

describe('writeImage', () => {
  it('names the config by its digest in both the OCI index and docker manifest.json', async () => {
    const layout = await tempDir();
    const blobs = join(layout, 'blobs', 'sha256');
    await mkdir(blobs, { recursive: true });
    const layer = await writeLayer(await tree(0), blobs, 1_700_000_000, 'app');
    const config = { User: '65532:65532', Env: [], Entrypoint: ['/nodejs/bin/node'], Cmd: [], WorkingDir: '/app', Labels: {} };
    const image = await writeImage(layout, [layer], config, 1_700_000_000, 'example:dev');
    const docker = JSON.parse(await readFile(join(layout, 'manifest.json'), 'utf8')) as Array<{
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }>;
    expect(docker).toEqual([
      { Config: `blobs/sha256/${image.imageId.slice(7)}`, RepoTags: ['example:dev'], Layers: [`blobs/sha256/${layer.digest}`] },
    ]);
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string; annotations: Record<string, string> }>;
    };
    expect(index.manifests[0]).toMatchObject({
      digest: image.manifestDigest,
      annotations: { 'io.containerd.image.name': 'docker.io/library/example:dev' },
    });
    const stored = JSON.parse(await readFile(join(blobs, image.imageId.slice(7)), 'utf8')) as { created: string; rootfs: { diff_ids: string[] } };
    expect(stored).toMatchObject({ created: '2023-11-14T22:13:20.000Z', rootfs: { diff_ids: [`sha256:${layer.digest}`] } });
  });
});
