/**
 * Grafana Alloy, built once from the Go module proxy and cached like the control plane's
 * binaries: the e2e specs run it on the configuration the controller generates (natively in
 * e2e/metrics.spec.ts, in the agent's pod in the kind suite).
 *
 * The proxy serves `github.com/grafana/alloy` at exact versions, but `go install` refuses it
 * (its go.mod has replace directives) and its zip holds neither `./syntax` (replaced by a
 * folder) nor `./collector` (the main package, a module of its own that is not served). So:
 * copy the downloaded module, drop only the `./syntax` replace so that the published
 * `github.com/grafana/alloy/syntax` of the same release is used (v1.19.0 and syntax v0.1.2
 * were tagged together, and its go.mod requires exactly that version), and compile
 * e2e/alloy/cmd/main.go, which runs Alloy's own command line, inside that copy with every
 * other line of Alloy's go.mod and go.sum as published.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultCacheDir, ensureBuilt, goModuleDir, repoRoot, runGo, type BinaryOptions } from '../controlplane/binaries.js';

const execFileAsync = promisify(execFile);

/** The Alloy release built, and the default image's tag (src/api/schema.ts). */
export const alloyVersion = 'v1.19.0';
/** The `syntax` module released with it: the version its go.mod requires. */
export const alloySyntaxVersion = 'v0.1.2';

const syntaxReplace = /^replace github\.com\/grafana\/alloy\/syntax => \.\/syntax\s*$/m;

/** Returns the path of the alloy binary, building it when the cache lacks it (about 15 minutes on 2 cores, cold). */
export async function ensureAlloy(options: BinaryOptions = {}): Promise<string> {
  const dir = join(options.cacheDir ?? defaultCacheDir(), `alloy-${alloyVersion}`);
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  await ensureBuilt(dir, ['alloy'], `Alloy ${alloyVersion}`, log, (out) => buildAlloy(out));
  return join(dir, 'alloy');
}

async function buildAlloy(out: string): Promise<void> {
  const published = await goModuleDir(`github.com/grafana/alloy@${alloyVersion}`);
  const src = await mkdtemp(join(out, 'src-'));
  try {
    await cp(published, src, { recursive: true });
    await execFileAsync('chmod', ['-R', 'u+w', src]);
    const goMod = await readFile(join(src, 'go.mod'), 'utf8');
    if (!syntaxReplace.test(goMod))
      throw new Error(`github.com/grafana/alloy@${alloyVersion}: its go.mod no longer replaces syntax with ./syntax; read it again before building`);
    if (!goMod.includes(`github.com/grafana/alloy/syntax ${alloySyntaxVersion}`))
      throw new Error(`github.com/grafana/alloy@${alloyVersion} does not require syntax ${alloySyntaxVersion}`);
    await writeFile(join(src, 'go.mod'), goMod.replace(syntaxReplace, ''));
    await mkdir(join(src, 'cmd', 'flant-e2e-alloy'), { recursive: true });
    await cp(join(repoRoot(), 'e2e', 'alloy', 'cmd', 'main.go'), join(src, 'cmd', 'flant-e2e-alloy', 'main.go'));
    const version = `-X github.com/grafana/alloy/internal/build.Version=${alloyVersion}`;
    // -mod=mod: go.sum gains only the published syntax module's sums (it had none: it was a folder).
    await runGo(
      ['build', '-mod=mod', '-tags', 'netgo', '-trimpath', `-ldflags=-s -w ${version}`, '-o', join(out, 'alloy'), './cmd/flant-e2e-alloy'],
      src,
    );
  } finally {
    await rm(src, { recursive: true, force: true });
  }
}
