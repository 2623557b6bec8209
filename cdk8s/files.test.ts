import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedFiles } from './files.js';
import { installObjects } from './install.js';

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
});
