/**
 * The image's base, assembled from Debian's own packages the way distroless assembles its
 * images: each .deb is fetched with `apt-get download` (cached by file name, which carries
 * the version) and unpacked with `dpkg-deb -x`; no maintainer script runs, so nothing needs
 * a shell. What the scripts would have made (the CA bundle) is made here, and what a runtime
 * image has no use for (documentation, the scripts' own programs) is left out.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * What Node truly needs and what a TLS client in a container expects: the C and C++ runtime
 * (`ldd node` names libc6, libstdc++6 and libgcc-s1 only; gcc-12-base holds the last two's
 * copyright), the Mozilla CA bundle, time zones,
 * /etc/services and /etc/protocols, and base-files for /etc/os-release (what scanners read).
 */
export const basePackages = ['base-files', 'ca-certificates', 'gcc-12-base', 'libc6', 'libgcc-s1', 'libstdc++6', 'netbase', 'tzdata'] as const;

/** The non-root user every container of ours runs as (distroless's `nonroot`). */
export const nonrootUid = 65532;

/** Paths removed from the unpacked packages: documentation, the packages' own tools, and glibc's iconv modules (Node converts text with ICU). */
const leftOut = [
  'usr/share/man',
  'usr/share/info',
  'usr/share/lintian',
  'usr/share/gcc',
  'usr/sbin/update-ca-certificates',
  'usr/lib/x86_64-linux-gnu/gconv',
  'etc/update-motd.d',
  'etc/profile.d',
  'etc/skel',
  'etc/ld.so.conf.d',
];

/** A downloaded package: its file and the fields of its control file. */
export interface DebianPackage {
  readonly file: string;
  readonly name: string;
  readonly version: string;
  readonly control: string;
}

/** Downloads (or finds in `cacheDir`) the candidate version of each package. */
export async function downloadPackages(names: readonly string[], cacheDir: string, log: (line: string) => void): Promise<DebianPackage[]> {
  await mkdir(cacheDir, { recursive: true });
  const packages: DebianPackage[] = [];
  for (const name of names) {
    const version = await candidateVersion(name, log);
    const file = join(cacheDir, debFileName(name, version, await architectureOf(name)));
    if (!existsSync(file)) await aptGet(['download', `${name}=${version}`], cacheDir, log);
    if (!existsSync(file)) throw new Error(`apt-get download ${name}=${version} wrote no ${file}`);
    const { stdout: control } = await run('dpkg-deb', ['-f', file]);
    packages.push({ file, name, version, control });
  }
  return packages;
}

/**
 * Unpacks the packages into `root` and makes what their maintainer scripts and distroless would: users, folders, the CA bundle, the dpkg status
 * files.
 */
export async function assembleBase(packages: readonly DebianPackage[], root: string): Promise<void> {
  for (const p of packages) await run('dpkg-deb', ['-x', p.file, root]);
  await trimDocs(root);
  for (const path of leftOut) await rm(join(root, path), { recursive: true, force: true });
  await writeCABundle(root);
  await writeUsers(root);
  await mkdir(join(root, 'var/lib/dpkg/status.d'), { recursive: true });
  for (const p of packages) await writeFile(join(root, 'var/lib/dpkg/status.d', p.name), p.control.trimEnd() + '\nStatus: install ok installed\n');
  for (const dir of ['tmp', 'home/nonroot']) await mkdir(join(root, dir), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await chmod(join(root, 'home/nonroot'), 0o700);
}

async function candidateVersion(name: string, log: (line: string) => void): Promise<string> {
  let version = await policyCandidate(name);
  if (!version) {
    // A fresh machine may have no package lists yet.
    await aptGet(['update'], undefined, log);
    version = await policyCandidate(name);
  }
  if (!version) throw new Error(`Debian has no installable version of ${name} (apt-cache policy ${name})`);
  return version;
}

async function policyCandidate(name: string): Promise<string | undefined> {
  const { stdout } = await run('apt-cache', ['policy', name]);
  const candidate = /Candidate:\s*(\S+)/.exec(stdout)?.[1];
  return candidate && candidate !== '(none)' ? candidate : undefined;
}

async function architectureOf(name: string): Promise<string> {
  const { stdout } = await run('apt-cache', ['show', '--no-all-versions', name]);
  return /^Architecture:\s*(\S+)/m.exec(stdout)?.[1] ?? 'amd64';
}

/** The file name apt-get download writes: an epoch's colon is written %3a. */
function debFileName(name: string, version: string, arch: string): string {
  return `${name}_${version.replace(':', '%3a')}_${arch}.deb`;
}

async function aptGet(args: readonly string[], cwd: string | undefined, log: (line: string) => void): Promise<void> {
  log(`apt-get ${args.join(' ')}`);
  try {
    await run('apt-get', ['-q', '-o', 'DPkg::Lock::Timeout=600', ...args], { cwd, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim() ?? '';
    throw new Error(`apt-get ${args.join(' ')} failed: ${stderr.split('\n').slice(-3).join(' ')}`, { cause: err });
  }
}

/** Keeps each package's copyright file (the licences) and drops the rest of /usr/share/doc. */
async function trimDocs(root: string): Promise<void> {
  const docs = join(root, 'usr/share/doc');
  if (!existsSync(docs)) return;
  for (const pkg of await readdir(docs, { withFileTypes: true })) {
    // libgcc-s1's and libstdc++6's folders are links to gcc-12-base's, which holds their copyright.
    if (!pkg.isDirectory()) continue;
    for (const entry of await readdir(join(docs, pkg.name))) {
      if (entry !== 'copyright') await rm(join(docs, pkg.name, entry), { recursive: true, force: true });
    }
  }
}

/** /etc/ssl/certs/ca-certificates.crt as update-ca-certificates writes it: every certificate of the package, in name order. */
async function writeCABundle(root: string): Promise<void> {
  const dir = join(root, 'usr/share/ca-certificates');
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.crt')).sort();
  const pems = await Promise.all(files.map(async (f) => (await readFile(join(dir, f), 'utf8')).trimEnd() + '\n'));
  await mkdir(join(root, 'etc/ssl/certs'), { recursive: true });
  await writeFile(join(root, 'etc/ssl/certs/ca-certificates.crt'), pems.join(''));
}

async function writeUsers(root: string): Promise<void> {
  const nologin = '/sbin/nologin';
  await writeFile(
    join(root, 'etc/passwd'),
    [
      `root:x:0:0:root:/root:${nologin}`,
      `nobody:x:65534:65534:nobody:/nonexistent:${nologin}`,
      `nonroot:x:${nonrootUid}:${nonrootUid}:nonroot:/home/nonroot:${nologin}`,
      '',
    ].join('\n'),
  );
  await writeFile(join(root, 'etc/group'), `root:x:0:\nnobody:x:65534:\nnonroot:x:${nonrootUid}:\n`);
  await writeFile(
    join(root, 'etc/nsswitch.conf'),
    'passwd: files\ngroup: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n',
  );
  await mkdir(join(root, 'root'), { recursive: true, mode: 0o700 });
}
