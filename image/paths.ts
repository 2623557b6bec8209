/**
 * Where the project's tooling finds the repository and keeps what is slow to make (the
 * control plane binaries, Debian packages, the Docker engine's data root): outside the work
 * tree, so a fresh clone (CI's) reuses what an earlier run built.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file with a package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root above ' + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

/** The default cache root. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLANT_E2E_CACHE_DIR) return env.FLANT_E2E_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'flant-integration');
}
