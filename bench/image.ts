/**
 * The image: its size (the whole and each layer, uncompressed, as built by `npm run image`'s
 * code) and how long a container takes from `docker run` to its first 200 on /readyz, beside
 * the same program started as a plain process on the same Node and measured the same way,
 * taking turns over `rounds`. The program is the madison-proxy (its /readyz needs only the
 * HTTPS stand-in), run as the chart runs it: read-only root, no capabilities, user 65532, on
 * the host network. Uses the Docker engine that answers, or starts Debian's and stops it again.
 * Prints one JSON object.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { performance } from 'node:perf_hooks';
import { buildAndLoad } from '../image/build.js';
import { dockerEnv, ensureEngine, type Engine } from '../image/engine.js';
import { defaultCacheDir } from '../image/paths.js';
import { freePort } from '../e2e/controlplane/process.js';
import { makeCertificates } from '../e2e/fakes/madison.js';
import { median } from './stats.js';

const run = promisify(execFile);

/** Milliseconds from now until `url` answers 200. */
async function untilReady(url: string, started: number): Promise<number> {
  for (let i = 0; i < 3000; i++) {
    const res = await fetch(url).catch(() => undefined);
    if (res?.status === 200) return performance.now() - started;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${url} did not answer 200 within 15 s`);
}

async function containerStart(engine: Engine, tag: string, dir: string, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const vars = Object.entries({ ...env, MADISON_CA_FILE: '/config/ca.pem', LISTEN_PORT: String(port) }).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  const name = `flant-bench-${process.pid}-${port}`;
  const started = performance.now();
  await run(
    'docker',
    [
      'run',
      '--detach',
      `--name=${name}`,
      '--network=host',
      '--read-only',
      '--cap-drop=ALL',
      '--security-opt=no-new-privileges',
      '--user=65532',
      `--volume=${dir}:/config:ro`,
      ...vars,
      tag,
      'proxy',
    ],
    { env: dockerEnv(engine) },
  );
  try {
    return await untilReady(`http://127.0.0.1:${port}/readyz`, started);
  } finally {
    await run('docker', ['rm', '--force', name], { env: dockerEnv(engine) });
  }
}

async function processStart(env: Record<string, string>, caFile: string): Promise<number> {
  const port = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(process.execPath, ['bin/flant-integration.js', 'proxy'], {
    stdio: 'ignore',
    env: { ...process.env, ...env, MADISON_CA_FILE: caFile, LISTEN_PORT: String(port) },
  });
  try {
    return await untilReady(`http://127.0.0.1:${port}/readyz`, started);
  } finally {
    child.kill('SIGKILL');
  }
}

export async function imageBench(rounds = 7): Promise<Record<string, unknown>> {
  const log = (line: string) => process.stderr.write(`bench image: ${line}\n`);
  const engine = await ensureEngine({ cacheDir: defaultCacheDir(), log });
  const certs = makeCertificates('madison.flant.com');
  const dir = await mkdtemp(join(tmpdir(), 'flant-bench-image-'));
  let standin: ChildProcess | undefined;
  try {
    const image = await buildAndLoad(engine, { log });
    await chmod(dir, 0o755);
    await copyFile(certs.caFile, join(dir, 'ca.pem'));
    await chmod(join(dir, 'ca.pem'), 0o644);
    standin = spawn(process.execPath, [new URL('./standin.js', import.meta.url).pathname, certs.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) => standin?.stdout?.once('data', (c: Buffer) => resolve(Number(c.toString().trim()))));
    const env = { LISTEN_HOST: '127.0.0.1', MADISON_BACKEND: `127.0.0.1:${port}`, MADISON_AUTH_KEY: 'bench-key' };
    const container: number[] = [];
    const plain: number[] = [];
    await containerStart(engine, image.tag, dir, env); // warm: the first run also sets up the overlay's layers
    for (let i = 0; i < rounds; i++) {
      container.push(await containerStart(engine, image.tag, dir, env));
      plain.push(await processStart(env, certs.caFile));
    }
    const mib = (n: number) => n / 1024 / 1024;
    return {
      tag: image.tag,
      imageId: image.imageId,
      nodeVersion: image.nodeVersion,
      totalMiB: mib(image.layers.reduce((s, l) => s + l.size, 0)),
      layers: image.layers.map((l) => ({ comment: l.comment, MiB: mib(l.size) })),
      appMiB: mib(image.layers.at(-1)?.size ?? 0),
      dependenciesMiB: mib(image.layers.at(-2)?.size ?? 0),
      containerToReadyMs: median(container),
      processToReadyMs: median(plain),
      rounds,
    };
  } finally {
    standin?.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    await rm(certs.dir, { recursive: true, force: true });
    await engine.stop();
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  process.stdout.write(`${JSON.stringify(await imageBench())}\n`);
}
