/**
 * kind's node image, built here with no registry: kind's own base recipe (the files of
 * `images/base` in the kind module we build kind from) on a Debian 12 root file system made
 * by mmdebstrap, with Debian's containerd, runc and CNI plugins in place of the ones kind
 * compiles; kubelet, kubeadm and kubectl from the Kubernetes module the local control plane
 * is built from; and, in the node's containerd, every image kubeadm runs (the control plane,
 * kube-proxy, etcd, CoreDNS, pause), each assembled here from those binaries. kind's default
 * CNI (kindnetd) and storage provisioner are images no module serves: the node gets a static
 * bridge CNI configuration (one node) and kind falls back to its host-path StorageClass.
 *
 * Built once and kept in the engine's data root (under the cache) by a tag that names every
 * input, so the next run (CI's too, on the same machine) reuses it.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeArchive, writeImage, writeLayer, type Layer, type RuntimeConfig } from '../../image/archive.js';
import { dockerEnv, type Engine } from '../../image/engine.js';
import { ensureDebian } from '../controlplane/binaries.js';
import { kindModuleDir, kindVersion, type KindBinaries } from './binaries.js';

const execFileAsync = promisify(execFile);

/** Debian release of the node and of the kube-proxy image. */
const debianSuite = 'bookworm';

/** What kind's base installs, less what is for rootless or storage tests we do not run, plus Debian's containerd, runc and CNI plugins. */
export const nodePackages = [
  'systemd',
  'conntrack',
  'iptables',
  'nftables',
  'iproute2',
  'ethtool',
  'util-linux',
  'mount',
  'kmod',
  'libseccomp2',
  'pigz',
  'bash',
  'ca-certificates',
  'procps',
  'jq',
  'containerd',
  'runc',
  'containernetworking-plugins',
] as const;

/** kube-proxy runs iptables (and conntrack) itself: its image is a small Debian with them. */
const kubeProxyPackages = ['iptables', 'conntrack'] as const;

/** The pod network of the one node (kind's default pod subnet's first /24). */
export const podSubnet = '10.244.0.0/24';

/** A static CNI configuration for a one-node cluster: a bridge with the node as gateway, masquerading what leaves the node. */
export const cniConfig = {
  cniVersion: '0.4.0',
  name: 'flant-e2e',
  plugins: [
    {
      type: 'bridge',
      bridge: 'cni0',
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: { type: 'host-local', ranges: [[{ subnet: podSubnet }]], routes: [{ dst: '0.0.0.0/0' }] },
    },
    { type: 'portmap', capabilities: { portMappings: true } },
  ],
};

/** Where the build runs and how it reports. */
export interface NodeImageOptions {
  readonly engine: Pick<Engine, 'host'>;
  readonly binaries: KindBinaries;
  readonly cacheDir: string;
  readonly log: (line: string) => void;
}

/** Returns the node image's tag, building the image first unless the engine already has it. */
export async function ensureNodeImage(options: NodeImageOptions): Promise<string> {
  const tag = `flant-integration/kind-node:${options.binaries.kubernetesVersion}-${await inputsKey(options.binaries)}`;
  const env = dockerEnv(options.engine);
  if (
    await docker(env, ['image', 'inspect', '--format', '{{.Id}}', tag]).then(
      () => true,
      () => false,
    )
  )
    return tag;
  const started = Date.now();
  options.log(`building kind's node image ${tag} (once; kept by the engine under ${options.cacheDir})...`);
  const work = await mkdtemp(join(tmpdir(), 'flant-kind-node-'));
  try {
    const base = await buildBase(options, env, work);
    const images = await buildComponentImages(options, work);
    await buildNode(options, env, base, images, tag, work);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  options.log(`built ${tag} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return tag;
}

/** A short hash of everything the image is made of, so a change to any input builds a new one. */
async function inputsKey(binaries: KindBinaries): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ debianSuite, nodePackages, kubeProxyPackages, cniConfig, kindVersion, kubernetes: binaries.kubernetesVersion }));
  hash.update(await readFile(new URL(import.meta.url)));
  return hash.digest('hex').slice(0, 12);
}

/**
 * kind's base image: mmdebstrap makes the root file system with the packages, then kind's
 * files are laid over it and its Dockerfile's steps run in a chroot (units enabled and
 * masked, /sbin/init, the runtime spec with kind's mount hook), pointing its unit files at
 * Debian's paths. (`docker import` takes no STOPSIGNAL: kind removes its nodes with `rm -f`.)
 */
async function buildBase(options: NodeImageOptions, env: NodeJS.ProcessEnv, work: string): Promise<string> {
  const kindFiles = join(await kindModuleDir(options.binaries), 'images', 'base', 'files');
  const rootfs = join(work, 'base.tar');
  const setup = [
    'set -eu',
    'chmod 755 /kind /kind/bin /kind/bin/* /usr/local/bin/entrypoint /usr/local/bin/clean-install',
    'find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete',
    'rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* /lib/systemd/system/local-fs.target.wants/*',
    'rm -f /lib/systemd/system/sockets.target.wants/*udev* /lib/systemd/system/sockets.target.wants/*initctl* ' +
      '/lib/systemd/system/basic.target.wants/*',
    'echo ReadKMsg=no >> /etc/systemd/journald.conf',
    'ln -sf /usr/lib/systemd/systemd /sbin/init',
    // Debian's paths where kind's units and containerd's defaults look elsewhere.
    'ln -sf /usr/bin/containerd /usr/local/bin/containerd',
    'mkdir -p /opt/cni && rm -rf /opt/cni/bin && ln -s /usr/lib/cni /opt/cni/bin',
    'systemctl enable kubelet.service containerd.service undo-mount-hacks.service',
    'systemctl mask systemd-binfmt.service',
    'mkdir -p /etc/kubernetes/manifests',
    // kind's runtime spec: containerd's default with kind's product_uuid hook and no rlimits.
    'ctr oci spec | jq \'.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}\' | jq ' +
      "'del(.process.rlimits)' > /etc/containerd/cri-base.json",
    'rm -rf /var/lib/apt/lists/* /var/cache/apt/* /usr/share/doc/* /usr/share/man/*',
  ].join('\n');
  await writeFile(join(work, 'base-setup.sh'), setup);
  await mmdebstrap(
    [...nodePackages],
    rootfs,
    [
      `cp -a ${shellQuote(kindFiles)}/. "$1"/`,
      `chmod -R u+w "$1"/kind "$1"/etc/containerd "$1"/etc/systemd/system "$1"/usr/local/bin`,
      `cp ${shellQuote(join(work, 'base-setup.sh'))} "$1"/tmp/setup.sh && chroot "$1" sh /tmp/setup.sh && rm "$1"/tmp/setup.sh`,
    ],
    options.log,
  );
  const tag = 'flant-integration/kind-base:build';
  await docker(env, [
    'import',
    '--change',
    'ENV container=docker',
    '--change',
    'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]',
    rootfs,
    tag,
  ]);
  return tag;
}

/** An image archive for the node's containerd, and the reference kubeadm knows it by. */
interface ComponentImage {
  readonly reference: string;
  readonly archive: string;
}

/** The images kubeadm runs, named as `kubeadm config images list` names them, each assembled from a binary built here. */
async function buildComponentImages(options: NodeImageOptions, work: string): Promise<ComponentImage[]> {
  const { binaries } = options;
  const { stdout } = await execFileAsync(binaries.kubeadm, ['config', 'images', 'list', '--kubernetes-version', binaries.kubernetesVersion]);
  const references = stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const proxyRootfs = join(work, 'kube-proxy-base.tar');
  await mmdebstrap(
    [...kubeProxyPackages],
    proxyRootfs,
    ['rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/usr/share/doc/* "$1"/usr/share/man/*'],
    options.log,
  );
  const images: ComponentImage[] = [];
  for (const reference of references) {
    const name = reference.split('/').pop()?.split(':')[0] ?? '';
    const plan = componentPlan(name, binaries);
    if (!plan) throw new Error(`kubeadm names an image this build does not know how to make: ${reference}`);
    const archive = join(work, `${name}.tar`);
    await componentImage(plan, reference, archive, name === 'kube-proxy' ? proxyRootfs : undefined, work);
    images.push({ reference, archive });
  }
  return images;
}

/** Where a component's binary goes in its image, and how the image runs it. */
interface ComponentPlan {
  readonly binary: string;
  readonly path: string;
  readonly entrypoint: readonly string[];
}

function componentPlan(name: string, binaries: KindBinaries): ComponentPlan | undefined {
  const kube = (binary: string): ComponentPlan => ({ binary, path: `/usr/local/bin/${binary.split('/').pop() ?? ''}`, entrypoint: [] });
  switch (name) {
    case 'kube-apiserver':
      return kube(binaries.kubeApiserver);
    case 'kube-controller-manager':
      return kube(binaries.kubeControllerManager);
    case 'kube-scheduler':
      return kube(binaries.kubeScheduler);
    case 'kube-proxy':
      return kube(binaries.kubeProxy);
    case 'etcd':
      return kube(binaries.etcd);
    case 'coredns':
      return { binary: binaries.coredns, path: '/coredns', entrypoint: ['/coredns'] };
    case 'pause':
      return { binary: binaries.pause, path: '/pause', entrypoint: ['/pause'] };
    default:
      return undefined;
  }
}

/** One component image: the binary alone (they are static), on a small Debian for kube-proxy. */
async function componentImage(plan: ComponentPlan, reference: string, archive: string, baseTar: string | undefined, work: string): Promise<void> {
  const layout = join(work, `layout-${createHash('sha256').update(reference).digest('hex').slice(0, 8)}`);
  const blobs = join(layout, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const layers: Layer[] = [];
  if (baseTar) {
    const unpacked = join(work, 'kube-proxy-root');
    if (!existsSync(unpacked)) {
      await mkdir(unpacked, { recursive: true });
      await execFileAsync('tar', ['--extract', `--file=${baseTar}`, `--directory=${unpacked}`, '--numeric-owner']);
    }
    layers.push(await writeLayer(unpacked, blobs, 0, `Debian 12 (${kubeProxyPackages.join(', ')})`));
  }
  const dir = join(work, `bin-${layers.length}-${plan.path.split('/').pop() ?? ''}`);
  const target = join(dir, plan.path.slice(1));
  await mkdir(join(target, '..'), { recursive: true });
  await copyFile(plan.binary, target);
  await chmod(target, 0o755);
  layers.push(await writeLayer(dir, blobs, 0, `${plan.path} (built here)`));
  const config: RuntimeConfig = {
    User: '0',
    Env: ['PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin'],
    Entrypoint: plan.entrypoint,
    Cmd: [],
    WorkingDir: '/',
    Labels: { 'io.flant.integration.kind-node': 'component image built with no registry' },
  };
  await writeImage(layout, layers, config, 0, reference);
  await writeArchive(layout, archive, 0);
}

/**
 * The node image: the base, started as a plain container (as `kind build node-image` does),
 * gets the binaries, the CNI configuration and the sandbox image's name, then the component
 * images imported into its containerd, and is committed with kind's entrypoint.
 */
async function buildNode(
  options: NodeImageOptions,
  env: NodeJS.ProcessEnv,
  base: string,
  images: readonly ComponentImage[],
  tag: string,
  work: string,
): Promise<void> {
  const { binaries } = options;
  const name = `flant-kind-build-${process.pid}`;
  await docker(env, ['rm', '-f', name]).catch(() => undefined);
  await docker(env, ['run', '-d', '--name', name, '--entrypoint', 'sleep', '--security-opt', 'seccomp=unconfined', base, 'infinity']);
  try {
    for (const [binary, path] of [
      [binaries.kubelet, '/usr/bin/kubelet'],
      [binaries.kubeadm, '/usr/bin/kubeadm'],
      [binaries.kubectl, '/usr/bin/kubectl'],
      [binaries.crictl, '/usr/local/bin/crictl'],
    ] as const) {
      await docker(env, ['cp', binary, `${name}:${path}`]);
    }
    await writeFile(join(work, 'version'), binaries.kubernetesVersion);
    await docker(env, ['cp', join(work, 'version'), `${name}:/kind/version`]);
    await writeFile(join(work, 'cni.conflist'), `${JSON.stringify(cniConfig, null, 2)}\n`);
    await docker(env, ['exec', name, 'mkdir', '-p', '/etc/cni/net.d']);
    await docker(env, ['cp', join(work, 'cni.conflist'), `${name}:/etc/cni/net.d/10-flant-e2e.conflist`]);
    const pause = images.find((i) => i.reference.includes('/pause:'));
    if (!pause) throw new Error('kubeadm named no pause image');
    // The sandbox image kubeadm names; and oom_score_adj kept at or above containerd's own, as
    // for rootless kind: lowering it needs CAP_SYS_RESOURCE, which these machines' sandbox lacks
    // (runc's child dies and containerd says only "can't get final child's PID from pipe").
    const containerdConfig = [
      `s|sandbox_image = .*|sandbox_image = "${pause.reference}"|`,
      's|restrict_oom_score_adj = false|restrict_oom_score_adj = true|',
    ];
    await docker(env, [
      'exec',
      name,
      'sh',
      '-euc',
      `chmod 755 /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl /usr/local/bin/crictl; ` +
        `${containerdConfig.map((e) => `sed -i '${e}' /etc/containerd/config.toml`).join('; ')}`,
    ]);
    await docker(env, ['exec', name, 'bash', '-c', 'nohup containerd > /var/log/containerd-build.log 2>&1 &']);
    await docker(env, [
      'exec',
      name,
      'bash',
      '-euc',
      'for i in $(seq 1 50); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done; cat ' +
        '/var/log/containerd-build.log; exit 1',
    ]);
    for (const image of images) {
      await dockerWithInput(
        env,
        ['exec', '-i', name, 'ctr', '--namespace=k8s.io', 'images', 'import', '--all-platforms', '--no-unpack', '--digests', '-'],
        image.archive,
      );
    }
    const listed = await docker(env, ['exec', name, 'ctr', '--namespace=k8s.io', 'images', 'list', '-q']);
    for (const image of images) {
      if (!listed.split('\n').includes(image.reference))
        throw new Error(`the node's containerd does not list ${image.reference} after importing it:\n${listed}`);
    }
    // `sleep` is the container's init and reaps nothing: a stopped containerd stays a zombie, so only live states count.
    await docker(env, [
      'exec',
      name,
      'sh',
      '-c',
      'pkill containerd; for i in $(seq 1 50); do pgrep -r RSD containerd >/dev/null || exit 0; sleep 0.2; done; exit 1',
    ]);
    await docker(env, ['exec', name, 'sh', '-c', 'rm -rf /var/log/containerd-build.log /tmp/*']);
    await docker(env, [
      'commit',
      '--change',
      'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]',
      '--change',
      'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""',
      name,
      tag,
    ]);
  } finally {
    await docker(env, ['rm', '-f', '-v', name]).catch(() => undefined);
  }
}

/**
 * Makes a Debian root file system tarball with `packages`, running each customize hook (shell, `$1` the root); installs Debian's mmdebstrap first
 * when missing.
 */
async function mmdebstrap(packages: readonly string[], output: string, hooks: readonly string[], log: (line: string) => void): Promise<void> {
  await ensureDebian('mmdebstrap', 'mmdebstrap', log);
  const started = Date.now();
  log(`mmdebstrap ${debianSuite} with ${packages.join(', ')}...`);
  const mirror = 'http://deb.debian.org/debian';
  await spawnChecked(
    'mmdebstrap',
    [
      '--variant=minbase',
      '--mode=root',
      `--include=${packages.join(',')}`,
      ...hooks.map((h) => `--customize-hook=${h}`),
      debianSuite,
      output,
      `deb ${mirror} ${debianSuite} main`,
      `deb ${mirror} ${debianSuite}-updates main`,
      `deb http://deb.debian.org/debian-security ${debianSuite}-security main`,
    ],
    { ...process.env, SOURCE_DATE_EPOCH: '0' },
  );
  log(`  made ${output.split('/').pop() ?? ''} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

async function docker(env: NodeJS.ProcessEnv, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync('docker', args, { env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`docker ${args.slice(0, 3).join(' ')} failed: ${(e.stderr ?? e.message).trim()}`, { cause: err });
  }
}

/** `docker args` with `file` as its standard input. */
async function dockerWithInput(env: NodeJS.ProcessEnv, args: readonly string[], file: string): Promise<void> {
  const { open } = await import('node:fs/promises');
  const handle = await open(file, 'r');
  try {
    await spawnChecked('docker', args, env, handle.fd);
  } finally {
    await handle.close();
  }
}

function spawnChecked(command: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin: number | 'ignore' = 'ignore'): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: [stdin, 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-6000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err) => reject(new Error(`cannot run ${command}: ${err.message}`, { cause: err })));
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.slice(0, 4).join(' ')} exited with ${code}:\n${output}`)),
    );
  });
}
