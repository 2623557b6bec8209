import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { crdPath, flantIntegrationCRDYaml, openAPIV3Schema, toStructuralSchema, type JSONSchemaNode } from './crd.js';
import { k8s } from './extensions.js';

type Visit = (node: JSONSchemaNode, path: string) => void;

function walk(node: JSONSchemaNode, path: string, visit: Visit): void {
  visit(node, path);
  const properties = (node.properties ?? {}) as Record<string, JSONSchemaNode>;
  for (const [name, child] of Object.entries(properties)) walk(child, `${path}.${name}`, visit);
  if (node.items) walk(node.items as JSONSchemaNode, `${path}[]`, visit);
}

/** Every violation of Kubernetes' structural-schema rules (and of our own: a description everywhere). */
function structuralViolations(root: JSONSchemaNode): string[] {
  const found: string[] = [];
  walk(root, '', (node, path) => {
    for (const key of ['$ref', '$schema', 'definitions', 'anyOf', 'oneOf', 'allOf', 'not']) {
      if (key in node) found.push(`${path}: has ${key}`);
    }
    if ('additionalProperties' in node && 'properties' in node) found.push(`${path}: additionalProperties beside properties`);
    const typeless = node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;
    if (!typeless && typeof node.type !== 'string') found.push(`${path}: no type`);
    if (node.properties && node.type !== 'object') found.push(`${path}: properties on a ${String(node.type)}`);
    if (node['x-kubernetes-int-or-string'] === true && 'type' in node) found.push(`${path}: int-or-string with a type`);
    if (typeof node.pattern === 'string' && /\(\?[=!<]|\\[1-9]/.test(node.pattern)) found.push(`${path}: pattern not RE2`);
    const scalarItem = path.endsWith('[]') && node.type !== 'object';
    const exempt = scalarItem || ['.metadata', '.apiVersion', '.kind', ''].includes(path);
    if (!exempt && typeof node.description !== 'string') found.push(`${path}: no description`);
  });
  return found;
}

describe('FlantIntegration CRD', () => {
  it('is a structural schema with a description on every field', () => {
    expect(structuralViolations(openAPIV3Schema())).toEqual([]);
  });

  it('finds violations when they are there', () => {
    const bad: JSONSchemaNode = {
      type: 'object',
      properties: { a: { $ref: '#/x', description: 'a' }, b: { type: 'string', pattern: '^(?=x)' } },
      additionalProperties: false,
    };
    expect(structuralViolations(bad).sort()).toEqual(
      [': additionalProperties beside properties', '.a: has $ref', '.a: no type', '.b: pattern not RE2', '.b: no description'].sort(),
    );
  });

  it('writes Kubernetes extensions the Kubernetes way', () => {
    const schema = z
      .object({
        port: k8s(z.string().describe('port'), { intOrString: true }),
        raw: k8s(z.object({}).describe('raw'), { preserveUnknownFields: true }),
      })
      .strict()
      .describe('x');
    const out = toStructuralSchema(schema);
    expect(out).not.toHaveProperty('additionalProperties');
    const properties = out.properties as Record<string, JSONSchemaNode>;
    expect(properties.port).toEqual({ 'x-kubernetes-int-or-string': true, description: 'port' });
    expect(properties.raw).toMatchObject({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  });

  it('carries the CEL rules the schema alone cannot say', () => {
    const root = openAPIV3Schema();
    expect(root['x-kubernetes-validations']).toEqual([expect.objectContaining({ rule: "self.metadata.name == 'default'" })]);
    const spec = (root.properties as Record<string, JSONSchemaNode>).spec as JSONSchemaNode;
    const metrics = (spec.properties as Record<string, JSONSchemaNode>).metrics as JSONSchemaNode;
    const url = (metrics.properties as Record<string, JSONSchemaNode>).url as JSONSchemaNode;
    expect(url['x-kubernetes-validations']).toEqual([
      expect.objectContaining({ message: 'must be an http:// or https:// URL' }),
      expect.objectContaining({ message: 'must have a port from 0 to 65535' }),
      expect.objectContaining({ message: 'must be an https:// URL (http:// only to a loopback host): the license is sent to it' }),
    ]);
  });

  it('matches the committed file (run `npm run generate` after changing the schema)', () => {
    const committed = readFileSync(new URL(`../../${crdPath}`, import.meta.url), 'utf8');
    expect(committed).toBe(flantIntegrationCRDYaml());
  });
});
