/**
 * The two installs: `kubectl apply -k config/default` and the Helm chart. The chart is
 * linted, and `helm template` must give back exactly the objects of the cdk8s constructs
 * for the same settings (defaults and a set of values). On the local control plane both are
 * applied with Pod Security `restricted` enforced on our namespaces, and the controller's
 * pod is admitted (the madison-proxy and pricing pods are, in the specs that make them).
 */
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { chartDir } from '../cdk8s/chart.js';
import { controllerName, controllerNamespace, controllerNetworkPolicy, installObjects, type InstallOptions } from '../cdk8s/install.js';
import { eventually } from './support/controller.js';
import { kubectl, kubectlOk } from './support/kubectl.js';
import { run } from './support/run.js';

const kc = inject('kubeconfig');
const helm = inject('helm');
const local = inject('localControlPlane');

type Obj = Record<string, unknown> & { kind?: string; metadata?: { name?: string; namespace?: string } };
const key = (o: Obj) => `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
/** Objects by kind/namespace/name, as plain JSON (the YAML round trip made equal). */
function byKey(objects: readonly Obj[]): Record<string, unknown> {
  return Object.fromEntries(objects.map((o) => [key(o), JSON.parse(JSON.stringify(o))]).sort(([a], [b]) => String(a).localeCompare(String(b))));
}

async function template(args: string[]): Promise<Obj[]> {
  const result = await run(helm, ['template', 'flant-integration', chartDir, ...args]);
  expect(result.code, result.out).toBe(0);
  return parseAllDocuments(result.out)
    .map((d) => d.toJS() as Obj)
    .filter((o) => o !== null);
}

describe('the Helm chart', () => {
  it('passes helm lint', async () => {
    const result = await run(helm, ['lint', '--strict', chartDir]);
    expect(result.code, result.out).toBe(0);
  });

  it('templates exactly the objects of config/ with the default values (ServiceMonitor only when its CRD is served)', async () => {
    const withoutMonitoring = await template([]);
    expect(byKey(withoutMonitoring)).toEqual(byKey([...installObjects(), controllerNetworkPolicy()]));
    const withMonitoring = await template(['--api-versions', 'monitoring.coreos.com/v1/ServiceMonitor']);
    expect(withMonitoring.map(key)).toContain(`ServiceMonitor ${controllerNamespace}/${controllerName}`);
  });

  it('templates exactly the objects of the constructs for a set of values', async () => {
    const options: InstallOptions = {
      image: 'registry.example/fic:1.2.3',
      imagePullPolicy: 'Always',
      imagePullSecrets: [{ name: 'mirror-pull' }],
      replicas: 2,
      leaderElect: false,
      secretNamespaces: ['team-a', 'team-b'],
      networkPolicy: false,
      prometheusRule: false,
      monitoringNamespace: 'monitoring',
      deckhouse: true,
    };
    const values = [
      '--set',
      'image.repository=registry.example/fic',
      '--set',
      'image.tag=1.2.3',
      '--set',
      'image.pullPolicy=Always',
      '--set',
      'imagePullSecrets[0].name=mirror-pull',
      '--set',
      'replicas=2',
      '--set',
      'leaderElection.enabled=false',
      '--set',
      'secretNamespaces={team-a,team-b}',
      '--set',
      'networkPolicy.enabled=false',
      '--set',
      'prometheusRule.enabled=false',
      '--set',
      'monitoringNamespace=monitoring',
      '--set',
      'deckhouse.enabled=true',
      '--set',
      'serviceMonitor.enabled=false',
    ];
    expect(byKey(await template(values))).toEqual(byKey(installObjects(options)));
  });
});

describe.skipIf(!local)('installing with Pod Security "restricted" enforced on our namespaces', () => {
  afterAll(async () => {
    // The RBAC stays (the specs run the controller with it); the Deployment goes.
    await kubectl(kc, ['delete', 'deployment', '-n', controllerNamespace, controllerName, '--ignore-not-found']);
  });

  it('applies config/default and the chart, and the controller pod is admitted; a privileged pod is not', async () => {
    await kubectlOk(kc, ['apply', '--server-side', '--force-conflicts', '-k', 'config/default']);
    const labels = await kubectlOk(kc, [
      'get',
      'namespace',
      controllerNamespace,
      '-o',
      'jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}',
    ]);
    expect(labels).toBe('restricted');
    await eventually(
      'the controller pod is admitted and created',
      async () => {
        const pods = await kubectlOk(kc, ['get', 'pods', '-n', controllerNamespace, '-l', `app.kubernetes.io/name=${controllerName}`, '-o', 'name']);
        return pods.trim() !== '';
      },
      60_000,
    );
    const events = await kubectlOk(kc, ['get', 'events', '-n', controllerNamespace, '--field-selector=reason=FailedCreate', '-o', 'name']);
    expect(events.trim()).toBe('');

    const chart = await run(helm, ['template', 'flant-integration', chartDir]);
    await kubectlOk(kc, ['apply', '--server-side', '--force-conflicts', '-f', '-'], chart.out);

    const privileged = await kubectl(kc, [
      'run',
      'not-restricted',
      '-n',
      controllerNamespace,
      '--image=example.invalid/x',
      '--privileged',
      '--dry-run=server',
    ]);
    expect(privileged.code).not.toBe(0);
    expect(privileged.stderr).toContain('violates PodSecurity "restricted:latest"');
  });
});
