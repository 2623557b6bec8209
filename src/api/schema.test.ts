import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { flantIntegrationSchema, flantIntegrationSpecSchema } from './schema.js';
import { durationToMillis } from './fields.js';
import { badSpecs, goodSpecs } from './fixtures.js';

function sample(file: string): unknown {
  const docs = parseAllDocuments(readFileSync(new URL(`../../config/samples/${file}`, import.meta.url), 'utf8'));
  return docs.map((d) => d.toJS() as { kind?: string }).find((d) => d.kind === 'FlantIntegration');
}

/** Paths of every issue zod reports, dotted: `spec.billing.contacts`. */
function failedPaths(input: unknown): string[] {
  const result = flantIntegrationSpecSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => i.path.join('.'));
}

describe('FlantIntegration schema', () => {
  it.each(['flantintegration.yaml', 'flantintegration-minimal.yaml'])('accepts the sample %s', (file) => {
    const parsed = flantIntegrationSchema.parse(sample(file));
    expect(parsed.metadata.name).toBe('default');
  });

  it('applies every default to an empty spec', () => {
    expect(flantIntegrationSpecSchema.parse({})).toEqual({
      namespace: 'd8-flant-integration',
      connect: { url: 'https://connect.deckhouse.io' },
      madison: { enabled: true, backendsHost: 'madison-direct.flant.com', discoveryInterval: '10m' },
      metrics: { enabled: true, scrapeInterval: '5m', agent: 'Alloy' },
      logs: { enabled: true },
      upmeter: { enabled: true, intervalSeconds: 300 },
      billing: { contacts: 0, planIsBoughtAsBundle: false, auxiliaryCluster: false, doNotChargeForRockSolid: false, nodesDiscount: 0 },
      prometheus: { url: 'https://prometheus.d8-monitoring:9090' },
    });
  });

  it('fills the kubeall defaults around a given host', () => {
    expect(flantIntegrationSpecSchema.parse({ kubeall: { host: 'm0' } }).kubeall).toEqual({
      host: 'm0',
      kubectl: 'sudo kubectl',
      kubeconfig: '/root/.kube/config',
      context: '',
    });
  });

  it('keeps values that are given', () => {
    const spec = flantIntegrationSpecSchema.parse({ madison: { enabled: false }, upmeter: { intervalSeconds: 30 } });
    expect(spec.madison.enabled).toBe(false);
    expect(spec.madison.backendsHost).toBe('madison-direct.flant.com');
    expect(spec.upmeter.intervalSeconds).toBe(30);
  });

  it('refuses a name other than "default"', () => {
    const result = flantIntegrationSchema.safeParse({ ...(sample('flantintegration-minimal.yaml') as object), metadata: { name: 'other' } });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('"default"');
  });

  it.each(badSpecs)('refuses $name, naming $field', ({ spec, field }) => {
    expect(failedPaths(spec)).toContain(field);
  });

  it.each(goodSpecs)('accepts $name', ({ spec }) => {
    expect(flantIntegrationSpecSchema.safeParse(spec).success).toBe(true);
  });
});

describe('durationToMillis', () => {
  it.each([
    ['10m', 600_000],
    ['30s', 30_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
  ])('reads %s as %d ms', (text, millis) => {
    expect(durationToMillis(text)).toBe(millis);
  });
});
