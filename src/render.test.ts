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

describe('render command', () => {
  it('prints the namespace and the Madison objects for the sample, from facts', async () => {
    const facts = file('facts.yaml', 'backends: [203.0.113.2, 203.0.113.10]\nauthKey: K\n');
    const out = await renderFromFiles('config/samples/flantintegration.yaml', facts);
    const kinds = parseAllDocuments(out).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(['Namespace', 'Secret', 'Deployment', 'Deployment', 'Service', 'PodDisruptionBudget', 'CustomAlertmanager']);
    expect(out).toContain('value: 203.0.113.10:443');
  });

  it('renders no Madison objects when Madison is off', async () => {
    const fi = file('off.yaml', 'apiVersion: integration.flant.com/v1alpha1\nkind: FlantIntegration\nmetadata: {name: default}\nspec: {madison: {enabled: false}}\n');
    const kinds = parseAllDocuments(await renderFromFiles(fi)).map((d) => (d.toJS() as { kind: string }).kind);
    expect(kinds).toEqual(['Namespace']);
  });

  it.each([
    ['a bad spec field', 'apiVersion: integration.flant.com/v1alpha1\nkind: FlantIntegration\nmetadata: {name: default}\nspec: {upmeter: {intervalSeconds: 60}}\n', undefined, 'spec.upmeter.intervalSeconds: must be 30 or 300'],
    ['a bad fact', 'apiVersion: integration.flant.com/v1alpha1\nkind: FlantIntegration\nmetadata: {name: default}\nspec: {}\n', 'backends: [not-an-ip]\n', 'backends.0: Invalid ip'],
  ])('names the field of %s', async (_name, fiText, factsText, message) => {
    const fi = file('fi.yaml', fiText);
    const facts = factsText ? file('f.yaml', factsText) : undefined;
    await expect(renderFromFiles(fi, facts)).rejects.toThrow(message);
  });
});
