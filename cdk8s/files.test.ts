import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from './files.js';
import { controllerServiceMonitor, installObjects } from './install.js';

describe('generated files', () => {
  it.each([...generatedFiles().keys()])('%s matches what `npm run generate` writes', (path) => {
    expect(readFileSync(new URL(`../${path}`, import.meta.url), 'utf8')).toBe(generatedFiles().get(path));
  });

  it('runs the controller as non-root with a read-only root filesystem and leader election', () => {
    const deployment = installObjects().find((o) => o.kind === 'Deployment') as {
      spec: { template: { spec: { securityContext: object; containers: Array<{ args: string[]; securityContext: object }> } } };
    };
    const pod = deployment.spec.template.spec;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.containers[0]?.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.containers[0]?.args).toContain('--leader-elect');
  });

  it("labels both namespaces it creates and the controller's ServiceMonitor as Deckhouse's Prometheus main selects them", () => {
    const namespaces = installObjects().filter((o) => o.kind === 'Namespace') as Array<{
      metadata: { name: string; labels: Record<string, string> };
    }>;
    expect(namespaces.map((n) => n.metadata.name).sort()).toEqual(['d8-flant-integration', 'flant-integration-system']);
    for (const n of namespaces)
      expect(n.metadata.labels).toMatchObject({
        'prometheus.deckhouse.io/rules-watcher-enabled': 'true',
        'prometheus.deckhouse.io/monitor-watcher-enabled': 'true',
      });
    expect((controllerServiceMonitor().metadata as { labels: Record<string, string> }).labels).toMatchObject({ prometheus: 'main' });
  });

  it('pulls the controller with the Secrets given, and with none by default', () => {
    const pod = (o: Array<Record<string, unknown>>) =>
      (o.find((x) => x.kind === 'Deployment') as { spec: { template: { spec: { imagePullSecrets?: unknown } } } }).spec.template.spec;
    expect(pod(installObjects({ imagePullSecrets: [{ name: 'mirror' }] })).imagePullSecrets).toEqual([{ name: 'mirror' }]);
    expect(pod(installObjects())).not.toHaveProperty('imagePullSecrets');
  });
});
