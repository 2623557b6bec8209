import { describe, expect, it } from 'vitest';
import type { ConditionInput } from '../reconciler/index.js';
import { buildStatus, canonical, licenceCondition, progressConditions, readyCondition } from './status.js';

const licenceOK = licenceCondition({ found: true, key: 'K', source: 'Secret a/b, key "k"' });
const licenceMissing = licenceCondition({ found: false, reason: 'SecretNotFound', message: 'Secret a/b not found' });
const proxyDown: ConditionInput = { type: 'MadisonProxyReady', status: 'False', reason: 'Progressing', message: 'waiting' };
const proxyUp: ConditionInput = { type: 'MadisonProxyReady', status: 'True', reason: 'Ready', message: 'ok' };

describe('readyCondition', () => {
  it.each([
    { name: 'license only, valid', input: [licenceOK], status: 'True', reason: 'Ready' },
    { name: 'license missing', input: [licenceMissing, proxyUp], status: 'False', reason: 'LicenseMissing' },
    { name: 'a component not ready', input: [licenceOK, proxyDown], status: 'False', reason: 'ComponentsNotReady' },
    { name: 'everything ready', input: [licenceOK, proxyUp], status: 'True', reason: 'Ready' },
  ])('$name', ({ input, status, reason }) => {
    expect(readyCondition(input)).toMatchObject({ type: 'Ready', status, reason });
  });

  it('names the failing components', () => {
    expect(readyCondition([licenceOK, proxyDown]).message).toBe('not ready: MadisonProxyReady (Progressing)');
  });

  it('never carries the license key', () => {
    expect(JSON.stringify(readyCondition([licenceOK]))).not.toContain('"K"');
    expect(licenceOK.message).not.toContain('K"');
  });
});

describe('progressConditions (kstatus)', () => {
  const crdMissing: ConditionInput = { type: 'LogShippingReady', status: 'False', reason: 'CRDNotInstalled', message: 'install it' };
  const apiError: ConditionInput = { type: 'UpmeterReady', status: 'False', reason: 'APIError', message: 'boom (retrying with backoff)' };
  const of = (others: ConditionInput[]) => progressConditions(readyCondition(others), others);

  it('says nothing when Ready is True (abnormal-true: absent is normal)', () => {
    expect(of([licenceOK, proxyUp])).toEqual([]);
  });

  it("is Reconciling while every failing condition converges on its own, with the first one's reason", () => {
    expect(of([licenceOK, proxyDown, apiError])).toEqual([
      {
        type: 'Reconciling',
        status: 'True',
        reason: 'Progressing',
        message: 'converging, retried on its own: MadisonProxyReady: waiting; also UpmeterReady (APIError)',
      },
    ]);
  });

  it.each([
    { name: 'license Secret missing', input: [licenceMissing, { ...proxyDown, reason: 'LicenseMissing' }], reason: 'SecretNotFound' },
    { name: 'a CRD missing beside a rollout', input: [licenceOK, proxyDown, crdMissing], reason: 'CRDNotInstalled' },
    { name: 'a conflict', input: [licenceOK, { ...proxyDown, reason: 'Conflict' }], reason: 'Conflict' },
    { name: 'a namespace without a Role', input: [licenceOK, { ...proxyDown, reason: 'NamespaceForbidden' }], reason: 'NamespaceForbidden' },
  ])('is Stalled, never Reconciling, when one needs a person: $name', ({ input, reason }) => {
    const [only, ...none] = of(input);
    expect(none).toEqual([]);
    expect(only).toMatchObject({ type: 'Stalled', status: 'True', reason, message: expect.stringMatching(/^needs a person: /) });
  });

  it('comes and goes in the built status, so a fixed object holds neither', () => {
    const now = '2026-11-22T00:00:00Z';
    const stalled = buildStatus({ current: undefined, generation: 2, clusterUUID: 'u', conditions: [licenceMissing], parts: [], now });
    expect(stalled.conditions?.map((c) => `${c.type}=${c.status}@${c.observedGeneration}`)).toEqual([
      'Ready=False@2',
      'Stalled=True@2',
      'LicenseValid=False@2',
    ]);
    const fixed = buildStatus({ current: stalled, generation: 2, clusterUUID: 'u', conditions: [licenceOK], parts: [], now });
    expect(fixed.conditions?.map((c) => c.type)).toEqual(['Ready', 'LicenseValid']);
  });
});

describe('buildStatus', () => {
  const now = '2026-11-22T00:00:00Z';
  const later = '2026-11-22T01:00:00Z';

  it('puts Ready first and stamps the generation', () => {
    const status = buildStatus({ current: undefined, generation: 3, clusterUUID: 'u', conditions: [licenceOK], parts: [], now });
    expect(status.conditions?.map((c) => c.type)).toEqual(['Ready', 'LicenseValid']);
    expect(status).toMatchObject({ observedGeneration: 3, clusterUUID: 'u' });
  });

  it('is unchanged when rebuilt later from the same facts, so nothing is written', () => {
    const first = buildStatus({
      current: undefined,
      generation: 1,
      clusterUUID: 'u',
      conditions: [licenceOK],
      parts: [{ madison: { backends: ['1.1.1.1'] } }],
      now,
    });
    const second = buildStatus({
      current: first,
      generation: 1,
      clusterUUID: 'u',
      conditions: [licenceOK],
      parts: [{ madison: { backends: ['1.1.1.1'] } }],
      now: later,
    });
    expect(canonical(second)).toBe(canonical(first));
  });

  it('drops conditions no longer reported', () => {
    const first = buildStatus({ current: undefined, generation: 1, clusterUUID: 'u', conditions: [licenceOK, proxyUp], parts: [], now });
    const second = buildStatus({ current: first, generation: 1, clusterUUID: 'u', conditions: [licenceOK], parts: [], now });
    expect(second.conditions?.map((c) => c.type)).toEqual(['Ready', 'LicenseValid']);
  });
});
