import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../../api/index.js';
import { alloyConfig } from './alloy.js';
import { agentConfig, proxyURL } from './config.js';
import { metricsObjects, type MetricsFacts } from './render.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are read as plain JSON */
type Obj = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
  rules?: any[];
};
/* eslint-enable @typescript-eslint/no-explicit-any */
const facts: MetricsFacts = {
  licenceKey: 'LIC-9',
  clusterUUID: 'uuid-9',
  image: 'registry/flant-integration:1.0',
  podMonitorServed: true,
  deckhouseTelemetry: false,
  clusterDomain: 'cluster.local',
};
const spec = (over: Record<string, unknown> = {}) => flantIntegrationSpecSchema.parse({ namespace: 'fi-ns', ...over });
const render = (s = spec(), f: Partial<MetricsFacts> = {}) => metricsObjects(s, { ...facts, ...f }) as unknown as Obj[];
const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);
const secretText = (o: Obj | undefined, key: string) => Buffer.from(o?.data?.[key] ?? '', 'base64').toString();

describe('metrics config (grafana-agent static mode)', () => {
  it('is exactly what the Deckhouse module rendered, field by field', () => {
    const s = spec({ metrics: { scrapeInterval: '30s' } });
    const relabels = [
      { source_labels: ['__name__'], regex: 'flant_pricing_.+', action: 'keep' },
      { target_label: 'cluster_uuid', replacement: 'uuid-9' },
      { target_label: '__replica__', replacement: '${POD_NAME}' },
      { regex: 'hook|instance', action: 'labeldrop' },
    ];
    expect(agentConfig(s, facts)).toEqual({
      server: { log_level: 'info' },
      metrics: {
        wal_directory: '/data/agent/wal',
        global: { scrape_interval: '30s' },
        configs: [
          {
            name: 'agent',
            host_filter: false,
            max_wal_time: '360h',
            scrape_configs: [
              {
                job_name: 'flant-pricing',
                metrics_path: '/metrics',
                static_configs: [{ targets: ['127.0.0.1:9115'] }],
                metric_relabel_configs: relabels,
              },
            ],
            remote_write: [
              {
                url: 'https://connect.deckhouse.io/v1/remote_write',
                bearer_token_file: '/etc/pricing-agent/license/license',
                metadata_config: { send: false },
              },
            ],
          },
        ],
      },
    });
  });

  it('adds the Deckhouse telemetry job only when its Service exists, and the proxy when one is set (https wins)', () => {
    const s = spec({ proxy: { httpProxy: 'http://p1:3128', httpsProxy: 'http://p2:3128' }, metrics: { url: 'https://metrics.example.com/write' } });
    const config = agentConfig(s, { ...facts, deckhouseTelemetry: true, clusterDomain: 'k8s.example' }) as {
      metrics: { configs: Array<{ scrape_configs: Array<Record<string, unknown>>; remote_write: Array<Record<string, unknown>> }> };
    };
    const [instance] = config.metrics.configs;
    expect(instance?.scrape_configs[1]).toMatchObject({
      job_name: 'deckhouse-telemetry',
      metrics_path: '/metrics/hooks',
      static_configs: [{ targets: ['deckhouse.d8-system.svc.k8s.example:8080'] }],
    });
    expect((instance?.scrape_configs[1]?.metric_relabel_configs as unknown[])[0]).toEqual({
      source_labels: ['__name__'],
      regex: 'd8_telemetry_.+',
      action: 'keep',
    });
    expect(instance?.remote_write[0]).toMatchObject({ url: 'https://metrics.example.com/write', proxy_url: 'http://p2:3128' });
  });
});

describe('renderMetrics', () => {
  it('keeps the license out of the config and in its own Secret, mounted as the token file', () => {
    const objs = render();
    const [config, licence] = byKind(objs, 'Secret');
    expect(config?.metadata.name).toBe('pricing-agent-config');
    expect(Object.keys(config?.data ?? {})).toEqual(['config.alloy']);
    expect(secretText(config, 'config.alloy')).toBe(alloyConfig(spec(), facts));
    expect(secretText(config, 'config.alloy')).not.toContain('LIC-9');
    const grafanaAgent = byKind(render(spec({ metrics: { agent: 'GrafanaAgent' } })), 'Secret')[0];
    expect(Object.keys(grafanaAgent?.data ?? {})).toEqual(['agent-scraping-service.yaml']);
    expect(parse(secretText(grafanaAgent, 'agent-scraping-service.yaml'))).toEqual(agentConfig(spec(), facts));
    expect(licence?.metadata.name).toBe('pricing-agent-license');
    expect(secretText(licence, 'license')).toBe('LIC-9');
    expect(JSON.stringify(byKind(objs, 'Deployment'))).not.toContain('LIC-9');
  });

  it('runs two spread replicas, tolerating but not requiring control-plane nodes, with both containers restricted', () => {
    const [d] = byKind(render(), 'Deployment');
    const pod = d?.spec.template.spec;
    expect(d?.spec.replicas).toBe(2);
    expect(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey).toBe(
      'kubernetes.io/hostname',
    );
    expect(pod.affinity.nodeAffinity).toBeUndefined();
    expect(pod.nodeSelector).toBeUndefined();
    expect(pod.tolerations.map((t: { key: string }) => t.key)).toEqual(['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master']);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of pod.containers) {
      expect(c.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      expect(c.resources.limits.memory).toBeDefined();
    }
    const [pricing, agent] = pod.containers;
    expect(pricing).toMatchObject({
      name: 'pricing',
      image: 'registry/flant-integration:1.0',
      args: ['pricing', '--probe-listen=:9116'],
      readinessProbe: { httpGet: { path: '/readyz' } },
    });
    expect(agent).toMatchObject({
      name: 'agent',
      image: 'grafana/alloy:v1.19.0',
      args: [
        'run',
        '--server.http.listen-addr=0.0.0.0:12345',
        '--storage.path=/data/agent',
        '--disable-reporting',
        '/etc/pricing-agent/config/config.alloy',
      ],
    });
    expect(agent.env.map((e: { name: string }) => e.name)).toEqual(['NODE_NAME', 'POD_NAME']);
    expect(agent.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data/agent' });
    expect(pod.volumes).toContainEqual({ name: 'data', emptyDir: {} });
  });

  it('runs grafana-agent in static mode on its own file when asked, or the image given', () => {
    const [d] = byKind(render(spec({ metrics: { agent: 'GrafanaAgent' } })), 'Deployment');
    expect(d?.spec.template.spec.containers[1]).toMatchObject({
      image: 'grafana/agent:v0.44.2',
      args: ['-config.file=/etc/pricing-agent/config/agent-scraping-service.yaml', '-config.expand-env', '-server.http.address=:12345'],
    });
    const [mirrored] = byKind(render(spec({ metrics: { image: 'mirror.example.com/agent:1' } })), 'Deployment');
    expect(mirrored?.spec.template.spec.containers[1].image).toBe('mirror.example.com/agent:1');
  });

  it('rolls the pods when the config or the license changes', () => {
    const sums = (objs: Obj[]) => byKind(objs, 'Deployment')[0]?.spec.template.metadata.annotations;
    const base = sums(render());
    expect(sums(render(spec(), { licenceKey: 'LIC-10' }))['checksum/license']).not.toBe(base['checksum/license']);
    expect(sums(render(spec({ metrics: { scrapeInterval: '1m' } })))['checksum/config']).not.toBe(base['checksum/config']);
    expect(sums(render(spec({ metrics: { agent: 'GrafanaAgent' } })))['checksum/config']).not.toBe(base['checksum/config']);
    expect(sums(render())).toEqual(base);
  });

  it('grants the exporter exactly what it reads, with no wildcard', () => {
    const [role] = byKind(render(), 'ClusterRole');
    expect(JSON.stringify(role?.rules)).not.toContain('*');
    expect(role?.rules).toContainEqual({
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['deckhouse-discovery', 'd8-provider-cluster-configuration', 'd8-cluster-configuration'],
      verbs: ['list', 'watch'],
    });
    expect(byKind(render(), 'ClusterRoleBinding')[0]?.spec).toBeUndefined();
  });

  it('copies the checked Prometheus CA into its own Secret, and lets the exporter get exactly that one, never the Secret the spec names', () => {
    expect(byKind(render(), 'Role')).toEqual([]);
    const objs = render(spec({ prometheus: { caSecretRef: { namespace: 'fi-ns', name: 'prom-ca', key: 'ca.crt' } } }), { prometheusCA: 'PEM' });
    expect(byKind(objs, 'Role')[0]).toMatchObject({
      metadata: { name: 'flant-integration-pricing-ca', namespace: 'fi-ns' },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['pricing-prometheus-ca'], verbs: ['get'] }],
    });
    expect((byKind(objs, 'RoleBinding')[0] as unknown as { subjects: unknown[] }).subjects).toEqual([
      { kind: 'ServiceAccount', name: 'pricing', namespace: 'fi-ns' },
    ]);
    expect(
      secretText(
        byKind(objs, 'Secret').find((o) => o.metadata.name === 'pricing-prometheus-ca'),
        'ca.crt',
      ),
    ).toBe('PEM');
    expect(JSON.stringify(objs)).not.toContain('prom-ca"');
  });

  it("renders the PodMonitor only when its CRD is served, labelled as Deckhouse's Prometheus main selects monitors", () => {
    expect(byKind(render(), 'PodMonitor')[0]?.metadata?.labels).toEqual({ prometheus: 'main' });
    expect(byKind(render(), 'PodMonitor')[0]?.spec).toEqual({
      selector: { matchLabels: { app: 'pricing' } },
      podMetricsEndpoints: [{ port: 'agent-http', path: '/metrics' }],
    });
    expect(byKind(render(spec(), { podMonitorServed: false }), 'PodMonitor')).toEqual([]);
  });

  it('pulls the pricing pods with the Secrets spec.imagePullSecrets names, and with none when it names none', () => {
    const [pulled] = byKind(render(spec({ imagePullSecrets: [{ name: 'mirror' }, { name: 'agent-mirror' }] })), 'Deployment');
    expect(pulled?.spec.template.spec.imagePullSecrets).toEqual([{ name: 'mirror' }, { name: 'agent-mirror' }]);
    expect(byKind(render(), 'Deployment')[0]?.spec.template.spec).not.toHaveProperty('imagePullSecrets');
  });

  it("probes the agent's liveness at /-/healthy on its own port", () => {
    const [deployment] = byKind(render(), 'Deployment');
    const agent = (deployment?.spec.template.spec.containers as Array<{ name: string; livenessProbe?: unknown }>).find((c) => c.name === 'agent');
    expect(agent?.livenessProbe).toMatchObject({ httpGet: { path: '/-/healthy', port: 'agent-http' } });
  });

  it("places the pricing pods on Deckhouse's system nodes with its PriorityClass where they exist, and adds nothing where they do not", () => {
    const pod = (placement?: { systemNodes: boolean; priorityClass: boolean }) =>
      byKind(render(spec(), { placement }), 'Deployment')[0]?.spec.template.spec;
    const placed = pod({ systemNodes: true, priorityClass: true });
    expect(placed).toMatchObject({ nodeSelector: { 'node-role.deckhouse.io/system': '' }, priorityClassName: 'cluster-medium' });
    expect(placed.tolerations).toContainEqual({ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'system' });
    for (const bare of [pod(), pod({ systemNodes: false, priorityClass: false })]) {
      expect(bare).not.toHaveProperty('nodeSelector');
      expect(bare).not.toHaveProperty('priorityClassName');
      expect(bare.tolerations.map((t: { key: string }) => t.key)).toEqual([
        'node-role.kubernetes.io/control-plane',
        'node-role.kubernetes.io/master',
      ]);
    }
  });

  it('gives the agent no proxy_url when noProxy covers metrics.url (an in-cluster Connect), as NO_PROXY does for the other workloads', () => {
    const s = spec({
      proxy: { httpsProxy: 'http://p:3128', noProxy: ['.svc', '10.0.0.0/8'] },
      metrics: { url: 'https://connect.standins.svc/v1/remote_write' },
    });
    expect(proxyURL(s)).toBeUndefined();
    expect(proxyURL(spec({ proxy: { httpsProxy: 'http://p:3128', noProxy: ['.svc'] } }))).toBe('http://p:3128');
  });
});
