import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderFromFiles } from './render.js';

const dir = mkdtempSync(join(tmpdir(), 'render-test-'));
function file(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}
const fiWith = (spec: string) =>
  file('fi.yaml', `apiVersion: integration.flant.com/v1alpha1\nkind: FlantIntegration\nmetadata: {name: default}\nspec: ${spec}\n`);
type Doc = { apiVersion: string; kind: string; metadata: { labels?: Record<string, string> }; spec?: Record<string, unknown> };
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as Doc);

describe('render command', () => {
  it('prints every component of the sample, with every Deckhouse CRD served at its best version by default', async () => {
    const facts = file('facts.yaml', 'madison: {backends: [203.0.113.2, 203.0.113.10], authKey: K}\n');
    const out = docs(await renderFromFiles('config/samples/flantintegration.yaml', facts));
    expect(out.map((d) => `${d.kind} ${d.apiVersion}`)).toEqual([
      'Namespace v1',
      'Secret v1',
      'Deployment apps/v1',
      'Deployment apps/v1',
      'Service v1',
      'PodDisruptionBudget policy/v1',
      'PodMonitor monitoring.coreos.com/v1',
      'NetworkPolicy networking.k8s.io/v1',
      'CustomAlertmanager deckhouse.io/v1alpha1',
      'ServiceAccount v1',
      'ClusterRole rbac.authorization.k8s.io/v1',
      'ClusterRoleBinding rbac.authorization.k8s.io/v1',
      'Secret v1',
      'Secret v1',
      'Deployment apps/v1',
      'PodMonitor monitoring.coreos.com/v1',
      'NetworkPolicy networking.k8s.io/v1',
      'ClusterLogDestination deckhouse.io/v1alpha1',
      'ClusterLoggingConfig deckhouse.io/v1alpha2',
      'UpmeterRemoteWrite deckhouse.io/v1',
      'PrometheusRule monitoring.coreos.com/v1',
    ]);
    expect(out.slice(1).every((d) => d.metadata.labels?.['app.kubernetes.io/managed-by'] === 'flant-integration')).toBe(true);
    expect(JSON.stringify(out)).toContain('203.0.113.10:443');
  });

  it('writes the versions the facts say are served, and says which components a missing CRD holds', async () => {
    const facts = file(
      'facts.yaml',
      'licenseKey: LIC\ncrds: {ClusterLoggingConfig: v1alpha1, UpmeterRemoteWrite: none, CustomAlertmanager: none, PrometheusRule: none}\n',
    );
    const notes: string[] = [];
    const out = docs(await renderFromFiles(fiWith('{madison: {enabled: false}, metrics: {enabled: false}}'), facts, (n) => notes.push(n)));
    expect(out.map((d) => `${d.kind} ${d.apiVersion}`)).toEqual([
      'Namespace v1',
      'ClusterLogDestination deckhouse.io/v1alpha1',
      'ClusterLoggingConfig deckhouse.io/v1alpha1',
    ]);
    expect(out[1]?.spec).toMatchObject({ loki: { auth: { strategy: 'Bearer', token: 'LIC' } } });
    expect(notes).toEqual(['upmeter: not rendered, the facts say upmeterremotewrites.deckhouse.io is not served (CRDNotInstalled)']);
  });

  it('renders nothing of a component that is switched off (the alerts on ourselves stay: they are switched by --prometheus-rule)', async () => {
    const out = docs(
      await renderFromFiles(fiWith('{madison: {enabled: false}, metrics: {enabled: false}, logs: {enabled: false}, upmeter: {enabled: false}}')),
    );
    expect(out.map((d) => d.kind)).toEqual(['Namespace', 'PrometheusRule']);
  });

  it.each([
    ['a bad spec field', '{upmeter: {intervalSeconds: 60}}', undefined, 'spec.upmeter.intervalSeconds: must be 30 or 300'],
    ['a bad fact of a component', '{}', 'madison: {backends: [not-an-ip]}\n', 'facts: madison.backends.0: Invalid ip'],
    ['an unknown fact', '{}', 'backends: [192.0.2.1]\n', 'facts: unknown field "backends"'],
    [
      'a version the controller does not write',
      '{}',
      'crds: {UpmeterRemoteWrite: v9}\n',
      'facts: crds.UpmeterRemoteWrite: v9 is not a version the controller writes (v1, v1alpha1)',
    ],
  ])('names the field of %s', async (_name, spec, factsText, message) => {
    const facts = factsText ? file('f.yaml', factsText) : undefined;
    await expect(renderFromFiles(fiWith(spec), facts)).rejects.toThrow(message);
  });
});
