/**
 * The FlantIntegration API on a real API server: the generated CRD installs, the samples
 * apply with defaults, `kubectl get` shows the printer columns, and every bad input is
 * refused at admission with a message naming the field.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiVersion, crdPath, kind } from '../src/api/index.js';
import { badSpecs, goodSpecs } from '../src/api/fixtures.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const kubeconfig = inject('kubeconfig');

function manifest(spec: Record<string, unknown>, name = 'default'): string {
  return JSON.stringify({ apiVersion, kind, metadata: { name }, spec });
}

async function deleteFlantIntegration(): Promise<void> {
  await kubectlOk(kubeconfig, ['delete', 'flantintegrations', '--all', '--wait=true', '--timeout=60s']);
}

describe('FlantIntegration CRD on a real API server', () => {
  beforeAll(async () => {
    await kubectlOk(kubeconfig, ['apply', '--server-side', '-f', crdPath]);
  });

  it('becomes Established', async () => {
    const out = await kubectlOk(kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/flantintegrations.integration.flant.com']);
    expect(out).toContain('condition met');
  });

  it('applies the minimal sample and fills the defaults', async () => {
    await kubectlOk(kubeconfig, ['apply', '-f', 'config/samples/flantintegration-minimal.yaml']);
    const spec = JSON.parse(await kubectlOk(kubeconfig, ['get', 'fi', 'default', '-o', 'jsonpath={.spec}'])) as Record<string, unknown>;
    expect(spec).toMatchObject({
      namespace: 'd8-flant-integration',
      madison: { enabled: true, backendsHost: 'madison-direct.flant.com', discoveryInterval: '10m' },
      upmeter: { enabled: true, intervalSeconds: 300 },
      connect: { url: 'https://connect.deckhouse.io' },
    });
    await deleteFlantIntegration();
  });

  it('applies the documented sample with its license Secret', async () => {
    await kubectlOk(kubeconfig, ['apply', '-f', 'config/samples/license-secret.yaml', '-f', 'config/samples/flantintegration.yaml']);
    const ref = await kubectlOk(kubeconfig, ['get', 'fi', 'default', '-o', 'jsonpath={.spec.licenseKeySecretRef.name}']);
    expect(ref).toBe('flant-license');
  });

  it('shows the printer columns in kubectl get', async () => {
    const out = await kubectlOk(kubeconfig, ['get', 'flantintegrations']);
    const header = out.split('\n')[0]?.trim().split(/\s+/);
    expect(header).toEqual(['NAME', 'READY', 'MADISON', 'METRICS', 'LOGS', 'UPMETER', 'AGE']);
    expect(out).toMatch(/^default\s/m);
    await deleteFlantIntegration();
    await kubectlOk(kubeconfig, ['delete', '-f', 'config/samples/license-secret.yaml', '--wait=false']);
  });

  it('accepts the install manifests of config/default', async () => {
    for (const name of ['flant-integration-system', 'd8-flant-integration']) {
      // A sample test above deletes d8-flant-integration without waiting; a terminating namespace refuses new objects.
      const phase = await kubectl(kubeconfig, ['get', 'namespace', name, '-o', 'jsonpath={.status.phase}']);
      if (phase.stdout === 'Terminating') await kubectl(kubeconfig, ['wait', '--for=delete', `namespace/${name}`, '--timeout=60s']);
      await kubectlOk(kubeconfig, ['create', 'namespace', name, '--dry-run=client', '-o', 'yaml']).then((ns) =>
        kubectlOk(kubeconfig, ['apply', '-f', '-'], ns),
      );
    }
    const out = await kubectlOk(kubeconfig, ['apply', '--server-side', '--dry-run=server', '-k', 'config/default']);
    expect(out).toContain('deployment.apps/flant-integration-controller serverside-applied (server dry run)');
    expect(out).toContain('clusterrole.rbac.authorization.k8s.io/flant-integration-controller serverside-applied (server dry run)');
  });

  it('refuses a name other than "default"', async () => {
    const result = await kubectl(kubeconfig, ['create', '-f', '-'], manifest({}, 'other'));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('must be named "default"');
  });

  it.each(badSpecs)('refuses $name at admission, naming spec.$field', async ({ spec, field }) => {
    const result = await kubectl(kubeconfig, ['create', '-f', '-'], manifest(spec));
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`spec.${field}`);
    expect((await kubectl(kubeconfig, ['get', 'fi', 'default'])).code).not.toBe(0);
  });

  it.each(goodSpecs)('accepts $name at admission', async ({ spec }) => {
    const result = await kubectl(kubeconfig, ['create', '--dry-run=server', '-f', '-'], manifest(spec));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
