/**
 * Everything the kind suite runs that is not ours, built once from the Go module proxy and
 * cached beside the control plane's binaries: kind itself, and the programs of the node
 * image (kubelet, kubeadm, kube-proxy and the control plane from the same Kubernetes build
 * as the local control plane; etcd, CoreDNS, crictl and a pause process). All static, so the
 * images they go into need no libc.
 */
import { join } from 'node:path';
import {
  ensureBuilt,
  ensureKubernetes,
  goModuleDir,
  kubernetesVersion,
  runGo,
  type BinaryOptions,
  type KubernetesBinaries,
} from '../controlplane/binaries.js';
import { defaultCacheDir, repoRoot } from '../../image/paths.js';

/** kind release (its module also holds the base image's files the node image uses). */
export const kindVersion = 'v0.33.0';
/** etcd release kubeadm v1.30 pairs with (its image tag is 3.5.15-0); e2e/kind/etcd/go.mod pins the same. */
export const etcdVersion = 'v3.5.15';
/** CoreDNS release kubeadm v1.30 deploys. */
export const corednsVersion = 'v1.11.3';
/** crictl (kind reads images with it); the closest release the module proxy serves. */
export const crictlVersion = 'v1.34.0';

/** Paths of the programs the kind suite and its node image need. */
export interface KindBinaries extends KubernetesBinaries {
  readonly kubernetesVersion: string;
  readonly kind: string;
  readonly etcd: string;
  readonly coredns: string;
  readonly crictl: string;
  readonly pause: string;
}

/** Returns the binaries, building whatever the cache lacks. */
export async function ensureKindBinaries(options: BinaryOptions = {}): Promise<KindBinaries> {
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const kube = await ensureKubernetes({ cacheDir, log });
  const kindDir = join(cacheDir, `kind-${kindVersion}`);
  await ensureBuilt(kindDir, ['kind'], `kind ${kindVersion}`, log, (out) => goInstall(`sigs.k8s.io/kind@${kindVersion}`, out));
  const nodeDir = join(cacheDir, `kind-node-programs-etcd-${etcdVersion}-coredns-${corednsVersion}-crictl-${crictlVersion}`);
  await ensureBuilt(nodeDir, ['etcd', 'coredns', 'crictl', 'pause'], 'etcd, CoreDNS, crictl and pause', log, async (out) => {
    // etcd's server module has replace directives (go install refuses it): built as a dependency of e2e/kind/etcd.
    await runGo(
      ['build', '-trimpath', '-ldflags=-s -w', '-o', join(out, 'etcd'), 'go.etcd.io/etcd/server/v3'],
      join(repoRoot(), 'e2e', 'kind', 'etcd'),
    );
    await goInstall(`github.com/coredns/coredns@${corednsVersion}`, out);
    await goInstall(`sigs.k8s.io/cri-tools/cmd/crictl@${crictlVersion}`, out);
    await runGo(['build', '-trimpath', '-ldflags=-s -w', '-o', join(out, 'pause'), './pause'], join(repoRoot(), 'e2e', 'controlplane', 'kube'));
  });
  return {
    ...kube,
    kubernetesVersion,
    kind: join(kindDir, 'kind'),
    etcd: join(nodeDir, 'etcd'),
    coredns: join(nodeDir, 'coredns'),
    crictl: join(nodeDir, 'crictl'),
    pause: join(nodeDir, 'pause'),
  };
}

function goInstall(module: string, out: string): Promise<void> {
  return runGo(['install', '-trimpath', '-ldflags=-s -w', module], undefined, { GOBIN: out });
}

/** The kind module's folder in the Go module cache (downloaded when missing): its `images/base/files` are the node's. */
export function kindModuleDir(_binaries?: KindBinaries): Promise<string> {
  return goModuleDir(`sigs.k8s.io/kind@${kindVersion}`);
}
