/**
 * On a Deckhouse cluster, picked up like Deckhouse's own module, on the real control plane with
 * the Prometheus Operator's CRDs served: our namespace, PodMonitors and PrometheusRule match the
 * selectors of Deckhouse's Prometheus `main` (evaluated by the API server itself); the cluster's
 * global proxy in `kube-system/d8-cluster-configuration` reaches the proxies and the agent when
 * `spec.proxy` is empty, `spec.proxy` wins, and its credentials stay in Secrets; a pull Secret
 * named in the spec reaches every pod spec we write.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { installObjects, workloadsNamespace as installWorkloadsNamespace } from '../cdk8s/install.js';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import { apply, condition, fakesSpec, removeFlantIntegrationAndNamespace, secret } from './support/cluster.js';
import { ControllerProcess, eventually, startController } from './support/controller.js';
import { installCRD } from './support/crd.js';
import { applyObjects, grantWorkloadsNamespace } from './support/credentials.js';
import { kubectl, kubectlOk } from './support/kubectl.js';

const kc = inject('kubeconfig');
const licence = 'LICENCE-deckhouse-e2e-61f0';
const ns = 'deckhouse-e2e';
const host = 'madison.deckhouse.test';
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
const proxyPassword = 'pr0xy-pa55-e2e';
let ctl: ControllerProcess;

/**
 * The selectors of Deckhouse's Prometheus `main` (its prometheus module's Prometheus object), as
 * label selectors the API server evaluates: rules by their labels from namespaces labelled
 * rules-watcher-enabled; PodMonitors and ServiceMonitors labelled `prometheus: main` from
 * namespaces labelled monitor-watcher-enabled.
 */
const deckhouseMain = {
  ruleSelector: 'prometheus=main,component=rules',
  ruleNamespaceSelector: 'prometheus.deckhouse.io/rules-watcher-enabled',
  monitorSelector: 'prometheus=main',
  monitorNamespaceSelector: 'prometheus.deckhouse.io/monitor-watcher-enabled',
};

/** Deckhouse's ClusterConfiguration with a global proxy, as Deckhouse stores it. */
const clusterConfiguration = secret('kube-system', 'd8-cluster-configuration', {
  'cluster-configuration.yaml': [
    'apiVersion: deckhouse.io/v1',
    'kind: ClusterConfiguration',
    'clusterType: Static',
    'clusterDomain: cluster.local',
    'podSubnetCIDR: 10.111.0.0/16',
    'serviceSubnetCIDR: 10.222.0.0/16',
    'proxy:',
    '  httpProxy: http://proxy.corp.test:3128',
    `  httpsProxy: http://fi-user:${proxyPassword}@proxy.corp.test:3129`,
    '  noProxy: [registry.corp.test]',
    '',
  ].join('\n'),
});

const spec = (extra: Record<string, unknown> = {}) =>
  fakesSpec(ns, connect.url, host, {
    metrics: { scrapeInterval: '10s' },
    // Their CRDs are not installed here (e2e/components.spec.ts covers them).
    logs: { enabled: false },
    upmeter: { enabled: false },
    imagePullSecrets: [{ name: 'registry-mirror' }],
    ...extra,
  });

interface PodSpec {
  imagePullSecrets?: Array<{ name: string }>;
  containers: Array<{ name: string; env?: Array<{ name: string; value?: string }> }>;
}

/** The pod specs of every Deployment of ours in the namespace, by name. */
async function podSpecs(): Promise<Map<string, PodSpec>> {
  const list = JSON.parse(
    await kubectlOk(kc, ['get', 'deployments', '-n', ns, '-l', 'app.kubernetes.io/managed-by=flant-integration', '-o', 'json']),
  ) as {
    items: Array<{ metadata: { name: string }; spec: { template: { spec: PodSpec } } }>;
  };
  return new Map(list.items.map((d) => [d.metadata.name, d.spec.template.spec]));
}

/** The value of `name` in a container's environment. */
const envOf = (pod: PodSpec | undefined, container: string, name: string) =>
  pod?.containers.find((c) => c.name === container)?.env?.find((e) => e.name === name)?.value;

/** Names of the objects of `resource` the selectors pick, across namespaces. */
async function selected(resource: string, selector: string): Promise<string[]> {
  const out = await kubectlOk(kc, [
    'get',
    resource,
    '-A',
    '-l',
    selector,
    '-o',
    'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}{"\\n"}{end}',
  ]);
  return out.split('\n').filter(Boolean);
}

beforeAll(async () => {
  await installCRD(kc);
  for (const crd of ['podmonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com'])
    await kubectlOk(kc, ['apply', '--server-side', '-f', `e2e/fixtures/crds/${crd}.yaml`]);
  await kubectlOk(kc, ['wait', '--for=condition=Established', 'crd/podmonitors.monitoring.coreos.com', 'crd/prometheusrules.monitoring.coreos.com']);
  await connect.start();
  await dns.start();
  dns.setA(host, ['192.0.2.61']);
  // The install's workloads namespace, as the install writes it (its labels), under this spec's name.
  const installed = installObjects().find((o) => o.kind === 'Namespace' && (o.metadata as { name: string }).name === installWorkloadsNamespace);
  if (!installed) throw new Error('the install writes no workloads namespace');
  await applyObjects(kc, [{ ...installed, metadata: { ...(installed.metadata as object), name: ns } }]);
  await grantWorkloadsNamespace(kc, ns);
  await apply(kc, secret(ns, 'license', { key: licence }));
  await apply(kc, clusterConfiguration);
  ctl = startController(['--sync-period=10m', `--dns-server=${dns.address}`, '--image=flant-integration-controller:e2e']);
  await apply(kc, spec());
});

afterAll(async () => {
  // Deleted while the controller runs: its finalizer removes our cluster-scoped objects, so the next spec's controller does not race the
  // garbage collector for them (the exporter's ClusterRoleBinding).
  await kubectl(kc, ['delete', 'flantintegration', 'default', '--ignore-not-found', '--wait=true', '--timeout=60s']);
  await ctl?.stop('SIGKILL');
  await kubectl(kc, ['delete', 'secret', '-n', 'kube-system', 'd8-cluster-configuration', '--ignore-not-found']);
  await removeFlantIntegrationAndNamespace(kc, ns);
  await connect.stop();
  await dns.stop();
});

describe('on a Deckhouse cluster', () => {
  it("puts our rules and monitors where Deckhouse's Prometheus main selects them", async () => {
    await eventually('Ready', async () => (await condition(kc, 'Ready'))?.status === 'True', 90_000);
    expect(await selected('namespaces', deckhouseMain.ruleNamespaceSelector)).toContain(`/${ns}`);
    expect(await selected('namespaces', deckhouseMain.monitorNamespaceSelector)).toContain(`/${ns}`);
    expect(await selected('prometheusrules', deckhouseMain.ruleSelector)).toContain(`${ns}/flant-integration`);
    expect(await selected('podmonitors', deckhouseMain.monitorSelector)).toEqual(expect.arrayContaining([`${ns}/pricing`, `${ns}/madison-proxy`]));
    // The controller's own namespace, as installed (its ServiceMonitor is labelled prometheus: main: cdk8s/install.test.ts).
    expect(await selected('namespaces', deckhouseMain.monitorNamespaceSelector)).toContain('/flant-integration-system');
    // Every alert names our module and says how Madison groups it.
    const rule = JSON.parse(await kubectlOk(kc, ['get', 'prometheusrule', '-n', ns, 'flant-integration', '-o', 'json'])) as {
      spec: { groups: Array<{ rules: Array<{ labels: Record<string, string>; annotations: Record<string, string> }> }> };
    };
    for (const r of rule.spec.groups.flatMap((g) => g.rules)) {
      expect(r.labels.d8_module).toBe('flant-integration');
      expect(r.annotations).toMatchObject({ plk_protocol_version: '1', plk_markup_format: 'markdown' });
    }
  });

  it("uses the cluster's global proxy when spec.proxy is empty: the proxies, the pricing pods, the agent; its password in Secrets only", async () => {
    const direct = 'registry.corp.test,127.0.0.1,169.254.169.254,cluster.local,10.111.0.0/16,10.222.0.0/16';
    let pods = new Map<string, PodSpec>();
    await eventually(
      'every Deployment has the proxy',
      async () => {
        pods = await podSpecs();
        return pods.size >= 2 && [...pods.values()].every((p) => p.containers.some((c) => c.env?.some((e) => e.name === 'HTTPS_PROXY')));
      },
      60_000,
    );
    const proxies = [...pods.keys()].filter((name) => name.startsWith('madison-proxy-'));
    expect(proxies.length).toBe(1);
    for (const [deployment, container] of [
      [proxies[0] ?? '', 'madison-proxy'],
      ['pricing', 'agent'],
    ] as const) {
      const pod = pods.get(deployment);
      expect(envOf(pod, container, 'HTTPS_PROXY')).toBe('http://$(EGRESS_PROXY_USERINFO)@proxy.corp.test:3129');
      expect(envOf(pod, container, 'HTTP_PROXY')).toBe('http://$(EGRESS_PROXY_USERINFO)@proxy.corp.test:3128');
      expect(envOf(pod, container, 'NO_PROXY')).toBe(direct);
    }
    const agentConfig = async () =>
      Buffer.from(
        await kubectlOk(kc, ['get', 'secret', '-n', ns, 'pricing-agent-config', '-o', 'jsonpath={.data.config\\.alloy}']),
        'base64',
      ).toString();
    // metrics.url is Connect's, on 127.0.0.1, which NO_PROXY sends direct: the agent gets no proxy_url.
    expect(await agentConfig()).not.toContain('proxy_url');
    await apply(kc, spec({ metrics: { scrapeInterval: '10s', url: 'https://metrics.example.test/v1/remote_write' } }));
    const withCredentials = new RegExp(`proxy_url += "http://fi-user:${proxyPassword}@proxy\\.corp\\.test:3129"`);
    await eventually(
      'an outside metrics.url goes through the proxy, its credentials in the Secret',
      async () => withCredentials.test(await agentConfig()),
      30_000,
    );
    // Connect is on 127.0.0.1, which NO_PROXY sends direct, as on Deckhouse: the registration went through.
    expect(connect.requests('/v1/madison_register').length).toBeGreaterThan(0);
    const deployments = await kubectlOk(kc, ['get', 'deployments', '-n', ns, '-o', 'json']);
    expect(deployments).not.toContain(proxyPassword);
    expect(ctl.lines.join('\n')).not.toContain(proxyPassword);
    expect(ctl.lines.join('\n')).not.toContain(licence);
  });

  it('lets spec.proxy win over the cluster proxy, and drops the proxy once the cluster has none', async () => {
    await apply(kc, spec({ proxy: { httpsProxy: 'http://own-proxy.test:8080' } }));
    await eventually(
      'the pricing pods use the spec proxy',
      async () => {
        const pod = (await podSpecs()).get('pricing');
        return envOf(pod, 'agent', 'HTTPS_PROXY') === 'http://own-proxy.test:8080' && envOf(pod, 'agent', 'NO_PROXY') === undefined;
      },
      30_000,
    );
    await apply(kc, spec());
    await kubectlOk(kc, ['delete', 'secret', '-n', 'kube-system', 'd8-cluster-configuration']);
    await eventually(
      'no Deployment has a proxy any more',
      async () => {
        const pods = await podSpecs();
        return pods.size >= 2 && [...pods.values()].every((p) => p.containers.every((c) => !c.env?.some((e) => e.name.endsWith('_PROXY'))));
      },
      30_000,
    );
  });

  it('pulls every pod of ours with the Secret spec.imagePullSecrets names', async () => {
    const pods = await podSpecs();
    expect([...pods.keys()].sort()).toEqual(expect.arrayContaining(['pricing']));
    for (const [name, pod] of pods) expect(pod.imagePullSecrets, name).toEqual([{ name: 'registry-mirror' }]);
  });

  it("moves our pods onto Deckhouse's system nodes with its PriorityClass once they exist, and back once they are gone", async () => {
    const node = (await kubectlOk(kc, ['get', 'nodes', '-l', 'type=kwok', '-o', 'jsonpath={.items[0].metadata.name}'])).trim();
    await kubectlOk(kc, ['label', 'node', node, 'node-role.deckhouse.io/system=']);
    await apply(kc, JSON.stringify({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'cluster-medium' }, value: 2000 }));
    try {
      await eventually(
        'every pod spec of ours is placed',
        async () => {
          const pods = await podSpecs();
          return (
            pods.size >= 2 &&
            [...pods.values()].every(
              (p) =>
                (p as { nodeSelector?: Record<string, string> }).nodeSelector?.['node-role.deckhouse.io/system'] === '' &&
                (p as { priorityClassName?: string }).priorityClassName === 'cluster-medium',
            )
          );
        },
        30_000,
      );
    } finally {
      await kubectl(kc, ['label', 'node', node, 'node-role.deckhouse.io/system-']);
      await kubectl(kc, ['delete', 'priorityclass', 'cluster-medium', '--ignore-not-found']);
    }
    await eventually(
      'no pod spec of ours is placed any more',
      async () => {
        const pods = await podSpecs();
        return pods.size >= 2 && [...pods.values()].every((p) => !('nodeSelector' in p) && !('priorityClassName' in p));
      },
      30_000,
    );
  });
});
