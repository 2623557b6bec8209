/**
 * `npm run image [-- --output FILE] [--tag TAG]` and `npm run engine [-- start|stop|status]`.
 *
 * `image` builds the image with nothing pulled; with `--output` it writes the archive (for
 * `docker load`, `ctr images import`, `kind load image-archive`) and needs no engine,
 * otherwise it loads the image into a Docker engine, starting Debian's when none answers
 * (and stopping it again). `engine start` leaves one running for `docker run` by hand.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultCacheDir, repoRoot } from './paths.js';
import { buildAndLoad, buildImage, defaultImageTag, describe } from './build.js';
import { ensureEngine, ownEngineHost, serverVersion, stopEngine } from './engine.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function imageCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { output: { type: 'string' }, tag: { type: 'string' } } });
  const tag = values.tag ?? defaultImageTag;
  const cacheDir = defaultCacheDir();
  if (values.output) {
    const image = await buildImage({ root: repoRoot(), cacheDir, output: resolve(values.output), tag, log });
    process.stdout.write(`${describe(image)}\n  archive ${image.output}\n`);
    return;
  }
  const engine = await ensureEngine({ cacheDir, log });
  try {
    const image = await buildAndLoad(engine, { tag, cacheDir, log });
    process.stdout.write(`${describe(image)}\n  loaded into the Docker engine at ${engine.host} (${engine.version})\n`);
  } finally {
    await engine.stop();
  }
  if (engine.started)
    process.stdout.write(`The engine this build started is stopped again; \`npm run engine\` keeps one running (DOCKER_HOST=${engine.host}).\n`);
}

async function engineCommand(args: string[]): Promise<void> {
  const action = args[0] ?? 'start';
  if (action === 'stop') {
    await stopEngine(undefined, log);
    return;
  }
  if (action === 'status') {
    const version = await serverVersion(ownEngineHost);
    process.stdout.write(version ? `dockerd ${version} answers at ${ownEngineHost}\n` : `no engine of ours answers at ${ownEngineHost}\n`);
    return;
  }
  if (action !== 'start') throw new Error(`unknown engine action "${action}" (start, stop, status)`);
  const engine = await ensureEngine({ cacheDir: defaultCacheDir(), log });
  process.stdout.write(
    `export DOCKER_HOST=${engine.host}   # ${engine.started ? 'started; `npm run engine -- stop` stops it' : 'already running'}\n`,
  );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === 'image') await imageCommand(rest);
    else if (command === 'engine') await engineCommand(rest);
    else throw new Error(`usage: main.js image [--output FILE] [--tag TAG] | engine [start|stop|status]`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) process.exitCode = await main(process.argv.slice(2));
