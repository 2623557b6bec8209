/**
 * `npm start`'s embedded mode, as a user runs it (`node dist/e2e/start.js`): it starts its own
 * control plane, installs the CRDs and samples, prints a banner whose kubeconfig works, and Ctrl-C
 * leaves no process behind.
 */
import { describe, expect, inject, it } from 'vitest';
import { ControllerProcess, eventually } from './support/controller.js';
import { kubectlOk } from './support/kubectl.js';
import { controlPlaneProcesses } from './support/processes.js';

describe.skipIf(!inject('localControlPlane'))('embedded mode (npm start without a kubeconfig)', () => {
  it('brings up a cluster where the sample becomes Ready, and Ctrl-C tears everything down', async () => {
    const before = await controlPlaneProcesses();
    const ctl = new ControllerProcess('', [], { KUBECONFIG: '' }, ['dist/e2e/start.js']);
    await eventually('the banner is printed', () => ctl.lines.some((l) => l.includes('try:')), 120_000);
    const kubeconfig = /kubeconfig: (\S+)/.exec(ctl.lines.join('\n'))?.[1] ?? '';
    expect(kubeconfig).not.toBe('');
    expect(await kubectlOk(kubeconfig, ['get', 'fi'])).toMatch(/^default\s/m);
    const ready = () => kubectlOk(kubeconfig, ['get', 'fi', 'default', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    await eventually('the sample FlantIntegration is Ready', async () => (await ready()) === 'True', 60_000);
    const madison = await kubectlOk(kubeconfig, ['get', 'fi', 'default', '-o', 'jsonpath={.status.madison.backendCount}']);
    expect(madison).toBe('2');
    const columns = await kubectlOk(kubeconfig, [
      'get',
      'fi',
      'default',
      '-o',
      'custom-columns=' +
        [
          'METRICS:.status.conditions[?(@.type=="MetricsShippingReady")].reason',
          'LOGS:.status.conditions[?(@.type=="LogShippingReady")].reason',
          'UPMETER:.status.conditions[?(@.type=="UpmeterReady")].reason',
        ].join(','),
      '--no-headers',
    ]);
    expect(columns.trim().split(/\s+/)).toEqual(['Ready', 'Ready', 'Ready']);

    expect(await ctl.stop('SIGINT')).toBe(0);
    const after = await controlPlaneProcesses();
    expect(after.filter((p) => !before.includes(p))).toEqual([]);
  });
});
