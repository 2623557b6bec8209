/**
 * The GitOps tools' view of an object, from their own code: the kstatus library (Flux's health
 * checks, kpt), built once from the Go module proxy into e2e/kstatus/main.go's small command and
 * cached; and Argo CD's health check (config/argocd/flantintegration-health.lua) run by Debian's
 * Lua 5.1, the Lua version Argo CD embeds.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultCacheDir, ensureBuilt, ensureDebian, repoRoot, runGo } from '../controlplane/binaries.js';

const execFileAsync = promisify(execFile);

/** The cli-utils release whose kstatus is built (e2e/kstatus/go.mod). */
export const cliUtilsVersion = 'v0.37.2';

/** What a GitOps tool says of an object. */
export interface Health {
  readonly status: string;
  readonly message: string;
}

/** The kstatus command's path, built when the cache lacks this source's build. */
export async function ensureKstatus(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<string> {
  const src = join(repoRoot(), 'e2e', 'kstatus');
  const digest = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'main.go']) digest.update(await readFile(join(src, f)));
  const dir = join(defaultCacheDir(), `kstatus-${cliUtilsVersion}-${digest.digest('hex').slice(0, 12)}`);
  await ensureBuilt(dir, ['kstatus'], `kstatus (sigs.k8s.io/cli-utils ${cliUtilsVersion})`, log, (out) =>
    runGo(['build', '-trimpath', '-ldflags=-s -w', '-o', join(out, 'kstatus'), '.'], src),
  );
  return join(dir, 'kstatus');
}

/** kstatus' status of `obj` (as the API server stores it). */
export async function kstatusOf(binary: string, obj: unknown): Promise<Health> {
  const child = execFileAsync(binary, [], { maxBuffer: 1024 * 1024 });
  child.child.stdin?.end(JSON.stringify(obj));
  const { stdout } = await child;
  return JSON.parse(stdout) as Health;
}

/** Lua 5.1 from PATH, else Debian's lua5.1 (root only). */
export function ensureLua(log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<string> {
  return ensureDebian('lua5.1', 'lua5.1', log);
}

/** Argo CD's health of `obj`: the health script run as Argo CD runs it, with `obj` a global table. */
export async function argoHealthOf(lua: string, obj: unknown): Promise<Health> {
  const script = await readFile(join(repoRoot(), 'config', 'argocd', 'flantintegration-health.lua'), 'utf8');
  const program = `obj = ${luaLiteral(obj)}\nlocal hs = (function()\n${script}\nend)()\nio.write(hs.status, "\\n", hs.message or "")\n`;
  const child = execFileAsync(lua, ['-'], { maxBuffer: 1024 * 1024 });
  child.child.stdin?.end(program);
  const { stdout } = await child;
  const [status = '', ...message] = stdout.split('\n');
  return { status, message: message.join('\n') };
}

/** A JSON value as a Lua table constructor (arrays from 1, as Argo CD's JSON decoding gives them). */
export function luaLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  if (typeof value === 'string') {
    const printable = (b: number) => b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c;
    return `"${[...Buffer.from(value, 'utf8')].map((b) => (printable(b) ? String.fromCharCode(b) : `\\${String(b).padStart(3, '0')}`)).join('')}"`;
  }
  if (Array.isArray(value)) return `{${value.map(luaLiteral).join(', ')}}`;
  return `{${Object.entries(value as Record<string, unknown>)
    .map(([k, v]) => `[${luaLiteral(k)}] = ${luaLiteral(v)}`)
    .join(', ')}}`;
}
