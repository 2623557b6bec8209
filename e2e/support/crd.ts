/**
 * Installs this project's CRD in the cluster under test and waits until it is served.
 */
import { crdPath } from '../../src/api/index.js';
import { kubectlOk } from './kubectl.js';

/** Server-side applies the generated CRD and waits for Established. */
export async function installCRD(kubeconfig: string): Promise<void> {
  await kubectlOk(kubeconfig, ['apply', '--server-side', '-f', crdPath]);
  await kubectlOk(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/flantintegrations.integration.flant.com']);
}
