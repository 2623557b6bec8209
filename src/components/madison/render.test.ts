import { describe, expect, it } from 'vitest';
import { flantIntegrationSpecSchema } from '../../api/index.js';
import { renderComponent } from '../../flantintegration/index.js';
import { MadisonComponent } from './component.js';
import { dnsResolver } from './discovery.js';
import {
  alertRelabels,
  keyChecksum,
  keySecret,
  keySignature,
  madisonObjects,
  proxyDeploymentName,
  signedKeySecret,
  type MadisonFacts,
} from './render.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are read as plain JSON */
type Obj = {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; ownerReferences?: unknown[] };
  spec?: any;
  data?: Record<string, string>;
};
/* eslint-enable @typescript-eslint/no-explicit-any */

const spec = flantIntegrationSpecSchema.parse({ namespace: 'fi-ns' });
const facts: MadisonFacts = {
  backends: ['10.1.0.1', '10.1.0.2'],
  authKey: 'KEY-1',
  licenceKey: 'LIC-1',
  keySource: 'test',
  customAlertmanagerServed: true,
  image: 'registry/flant-integration:1.0',
};
const component = new MadisonComponent({ resolver: dnsResolver(), image: 'unused' });

function render(over: Partial<MadisonFacts> = {}, s = spec): Obj[] {
  return madisonObjects(s, { ...facts, ...over }) as unknown as Obj[];
}
const byKind = (objs: Obj[], kind: string) => objs.filter((o) => o.kind === kind);

describe('renderMadison', () => {
  it('renders one Deployment per backend, named by the hash of its address', () => {
    const deployments = byKind(render(), 'Deployment');
    expect(deployments.map((d) => d.metadata.name)).toEqual([proxyDeploymentName('10.1.0.1'), proxyDeploymentName('10.1.0.2')]);
    expect(proxyDeploymentName('10.1.0.1')).toMatch(/^madison-proxy-[0-9a-f]{10}$/);
    expect(deployments.every((d) => d.metadata.namespace === 'fi-ns')).toBe(true);
  });

  it("labels every object as ours and as Madison's, as the controller applies them", () => {
    for (const o of renderComponent(component, spec, { ...facts, prometheusNamespace: 'd8-monitoring' }) as unknown as Obj[]) {
      expect(o.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'flant-integration', 'integration.flant.com/component': 'madison' });
    }
  });

  it('runs the proxy as the Deckhouse module did, hardened', () => {
    const [d] = byKind(render(), 'Deployment');
    const pod = d?.spec.template;
    const container = pod.spec.containers[0];
    expect(d?.metadata.labels).toEqual({ app: 'madison-proxy', 'madison-backend': '10.1.0.1' });
    expect(d?.spec).toMatchObject({
      replicas: 1,
      strategy: { type: 'Recreate' },
      selector: { matchLabels: { app: 'madison-proxy', 'madison-backend': '10.1.0.1' } },
    });
    expect(pod.metadata.labels).toEqual({ app: 'madison-proxy', 'madison-backend': '10.1.0.1' });
    expect(container).toMatchObject({
      image: 'registry/flant-integration:1.0',
      args: ['proxy'],
      ports: [{ name: 'http', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' } },
      readinessProbe: { httpGet: { path: '/readyz', port: 'http' } },
      resources: { requests: { cpu: '25m', memory: '80Mi' }, limits: { memory: '128Mi' } },
      securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
    });
    expect(pod.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(container.env).toEqual([
      { name: 'MADISON_BACKEND', value: '10.1.0.1:443' },
      { name: 'MADISON_AUTH_KEY', valueFrom: { secretKeyRef: { name: 'madison-proxy', key: 'auth-key' } } },
      { name: 'NODE_OPTIONS', value: '--max-semi-space-size=1 --max-old-space-size=16' },
      { name: 'MALLOC_ARENA_MAX', value: '1' },
      { name: 'MALLOC_MMAP_THRESHOLD_', value: '131072' },
      { name: 'MALLOC_TRIM_THRESHOLD_', value: '131072' },
    ]);
  });

  it("spreads the proxies over nodes and keeps two old ReplicaSets, as Deckhouse's render does", () => {
    for (const d of byKind(render(), 'Deployment')) {
      expect(d.spec.revisionHistoryLimit).toBe(2);
      expect(d.spec.template.spec.affinity).toEqual({
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'madison-proxy' } } } },
          ],
        },
      });
    }
  });

  it('rolls the pods when the key changes, through the checksum annotation', () => {
    const annotation = (objs: Obj[]) => byKind(objs, 'Deployment')[0]?.spec.template.metadata.annotations['checksum/auth-key'];
    expect(annotation(render())).toBe(keyChecksum('KEY-1'));
    expect(annotation(render({ authKey: 'KEY-2' }))).not.toBe(annotation(render()));
    expect(JSON.stringify(byKind(render(), 'Deployment'))).not.toContain('KEY-1');
  });

  it('stores the key in the madison-proxy Secret', () => {
    const [secret] = byKind(render(), 'Secret');
    expect(secret?.metadata).toMatchObject({ name: 'madison-proxy', namespace: 'fi-ns' });
    expect(Buffer.from(secret?.data?.['auth-key'] ?? '', 'base64').toString()).toBe('KEY-1');
  });

  it('stores a freshly issued key with the same Secret the full render has', () => {
    expect(keySecret(spec, 'KEY-1', 'LIC-1')).toEqual(byKind(render(), 'Secret')[0]);
  });

  it('signs the key Secret with the license: only a holder of the license can make a Secret that passes for ours', () => {
    const stored = keySecret(spec, 'KEY-1', 'LIC-1');
    expect(stored.metadata?.annotations?.['integration.flant.com/signature']).toBe(keySignature('LIC-1', 'fi-ns', 'KEY-1'));
    expect(signedKeySecret(stored, 'LIC-1', 'KEY-1')).toBe(true);
    expect(signedKeySecret(stored, 'another-license', 'KEY-1'), 'another license').toBe(false);
    expect(signedKeySecret(stored, 'LIC-1', 'KEY-2'), 'another key').toBe(false);
    const copied = { ...stored, metadata: { ...stored.metadata, annotations: {} } };
    expect(signedKeySecret(copied, 'LIC-1', 'KEY-1'), 'our labels without the signature').toBe(false);
  });

  it('renders a headless Service and a PodDisruptionBudget over every proxy', () => {
    const [service] = byKind(render(), 'Service');
    expect(service?.spec).toMatchObject({ clusterIP: 'None', selector: { app: 'madison-proxy' }, ports: [{ name: 'http', port: 8080 }] });
    expect(byKind(render(), 'PodDisruptionBudget')[0]?.spec).toMatchObject({
      maxUnavailable: 1,
      selector: { matchLabels: { app: 'madison-proxy' } },
    });
  });

  it('renders the CustomAlertmanager only when its CRD is served', () => {
    expect(byKind(render(), 'CustomAlertmanager')[0]?.spec).toEqual({
      type: 'External',
      external: { service: { namespace: 'fi-ns', name: 'madison-proxy' } },
    });
    expect(byKind(render({ customAlertmanagerServed: false }), 'CustomAlertmanager')).toEqual([]);
  });

  it('renders the alert relabeling for Prometheus main when it is there', () => {
    expect(byKind(render(), 'Secret')).toHaveLength(1);
    const relabel = byKind(render({ prometheusNamespace: 'd8-monitoring' }), 'Secret')[1];
    expect(relabel?.metadata).toMatchObject({
      name: 'prometheus-main-additional-configs-alert-relable-tier',
      namespace: 'd8-monitoring',
      labels: { 'additional-configs-for-prometheus': 'main' },
    });
    expect(Buffer.from(relabel?.data?.['alert-relabels.yaml'] ?? '', 'base64').toString()).toBe(alertRelabels);
  });

  it('keeps only the key Secret when the setup is revoked', () => {
    expect(render({ revoked: true }).map((o) => o.kind)).toEqual(['Secret']);
  });

  it('passes the egress proxy to the proxies in both cases', () => {
    const withProxy = flantIntegrationSpecSchema.parse({ proxy: { httpsProxy: 'http://proxy:3128', noProxy: ['.cluster.local', '10.0.0.0/8'] } });
    const env = byKind(render({}, withProxy), 'Deployment')[0]?.spec.template.spec.containers[0].env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
        { name: 'https_proxy', value: 'http://proxy:3128' },
        { name: 'NO_PROXY', value: '.cluster.local,10.0.0.0/8' },
      ]),
    );
  });

  it('pulls the proxies with the Secrets spec.imagePullSecrets names, and with none when it names none', () => {
    const pulled = flantIntegrationSpecSchema.parse({ namespace: 'fi-ns', imagePullSecrets: [{ name: 'mirror' }] });
    for (const d of byKind(render({}, pulled), 'Deployment')) expect(d.spec.template.spec.imagePullSecrets).toEqual([{ name: 'mirror' }]);
    for (const d of byKind(render(), 'Deployment')) expect(d.spec.template.spec).not.toHaveProperty('imagePullSecrets');
  });

  it("places the proxies on Deckhouse's system nodes with its PriorityClass where they exist, and adds nothing where they do not", () => {
    const [placed] = byKind(render({ placement: { systemNodes: true, priorityClass: true } }), 'Deployment');
    expect(placed?.spec.template.spec).toMatchObject({
      nodeSelector: { 'node-role.deckhouse.io/system': '' },
      tolerations: [{ key: 'dedicated.deckhouse.io', operator: 'Equal', value: 'system' }],
      priorityClassName: 'cluster-medium',
    });
    const [bare] = byKind(render(), 'Deployment');
    for (const field of ['nodeSelector', 'tolerations', 'priorityClassName']) expect(bare?.spec.template.spec).not.toHaveProperty(field);
  });
});
