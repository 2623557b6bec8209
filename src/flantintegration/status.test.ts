import { describe, expect, it } from 'vitest';
import type { ConditionInput } from '../reconciler/index.js';
import { buildStatus, canonical, licenceCondition, readyCondition } from './status.js';

const licenceOK = licenceCondition({ found: true, key: 'K', source: 'Secret a/b, key "k"' });
const licenceMissing = licenceCondition({ found: false, reason: 'SecretNotFound', message: 'Secret a/b not found' });
const proxyDown: ConditionInput = { type: 'MadisonProxyReady', status: 'False', reason: 'Progressing', message: 'waiting' };
const proxyUp: ConditionInput = { type: 'MadisonProxyReady', status: 'True', reason: 'Ready', message: 'ok' };

describe('readyCondition', () => {
  it.each([
    { name: 'licence only, valid', input: [licenceOK], status: 'True', reason: 'Ready' },
    { name: 'licence missing', input: [licenceMissing, proxyUp], status: 'False', reason: 'LicenceMissing' },
    { name: 'a component not ready', input: [licenceOK, proxyDown], status: 'False', reason: 'ComponentsNotReady' },
    { name: 'everything ready', input: [licenceOK, proxyUp], status: 'True', reason: 'Ready' },
  ])('$name', ({ input, status, reason }) => {
    expect(readyCondition(input)).toMatchObject({ type: 'Ready', status, reason });
  });

  it('names the failing components', () => {
    expect(readyCondition([licenceOK, proxyDown]).message).toBe('not ready: MadisonProxyReady (Progressing)');
  });

  it('never carries the licence key', () => {
    expect(JSON.stringify(readyCondition([licenceOK]))).not.toContain('"K"');
    expect(licenceOK.message).not.toContain('K"');
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
    const first = buildStatus({ current: undefined, generation: 1, clusterUUID: 'u', conditions: [licenceOK], parts: [{ madison: { backends: ['1.1.1.1'] } }], now });
    const second = buildStatus({ current: first, generation: 1, clusterUUID: 'u', conditions: [licenceOK], parts: [{ madison: { backends: ['1.1.1.1'] } }], now: later });
    expect(canonical(second)).toBe(canonical(first));
  });

  it('drops conditions no longer reported', () => {
    const first = buildStatus({ current: undefined, generation: 1, clusterUUID: 'u', conditions: [licenceOK, proxyUp], parts: [], now });
    const second = buildStatus({ current: first, generation: 1, clusterUUID: 'u', conditions: [licenceOK], parts: [], now });
    expect(second.conditions?.map((c) => c.type)).toEqual(['Ready', 'LicenseValid']);
  });
});
