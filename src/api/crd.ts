/**
 * The FlantIntegration CRD, generated from the zod schema. This is the one module that
 * knows zod-to-json-schema: it turns its output into a Kubernetes *structural* schema
 * (no `$ref`, no `additionalProperties` beside `properties`, Kubernetes extensions
 * written as `x-kubernetes-*`), then wraps it in a CustomResourceDefinition.
 */
import { createRequire } from 'node:module';
import type { ZodType, ZodTypeAny, ZodTypeDef } from 'zod';
import { ConditionType } from './conditions.js';
import { extensionsOf, type CelRule } from './extensions.js';
import { flantIntegrationSpecSchema, flantIntegrationStatusSchema, group, kind, objectValidations, plural, version } from './schema.js';

/** An OpenAPI v3 schema node as Kubernetes reads it. */
export type JSONSchemaNode = { [key: string]: unknown };

/** Path of the generated CRD, relative to the repository root. */
export const crdPath = 'crds/integration.flant.com_flantintegrations.yaml';

/** Keys of JSON Schema that a Kubernetes structural schema does not accept. */
const droppedKeys = new Set(['$schema', 'additionalProperties', 'definitions', '$ref', 'exclusiveMinimum', 'exclusiveMaximum']);

/**
 * zod-to-json-schema and yaml are required when the CRD is made, not imported with the API:
 * `render` and the controller's reconciles read the schema and never convert it.
 */
const load = createRequire(import.meta.url);

/** Converts a zod schema to a structural OpenAPI v3 schema. */
export function toStructuralSchema(schema: ZodTypeAny): JSONSchemaNode {
  const { zodToJsonSchema } = load('zod-to-json-schema') as typeof import('zod-to-json-schema');
  const raw = zodToJsonSchema(schema as ZodType, {
    target: 'openApi3',
    $refStrategy: 'none',
    effectStrategy: 'input',
    postProcess: (node, def) => (node === undefined ? node : applyExtensions(node as JSONSchemaNode, def)),
  });
  return structural(raw);
}

function applyExtensions(node: JSONSchemaNode, def: ZodTypeDef): JSONSchemaNode {
  const ext = extensionsOf(def);
  if (!ext) return node;
  const out: JSONSchemaNode = { ...node };
  if (ext.type) out.type = ext.type;
  if (ext.format) out.format = ext.format;
  if (ext.minLength !== undefined) out.minLength = ext.minLength;
  if (ext.maxLength !== undefined) out.maxLength = ext.maxLength;
  if (ext.intOrString) {
    delete out.type;
    out['x-kubernetes-int-or-string'] = true;
  }
  if (ext.preserveUnknownFields) out['x-kubernetes-preserve-unknown-fields'] = true;
  if (ext.listType) out['x-kubernetes-list-type'] = ext.listType;
  if (ext.listMapKeys) out['x-kubernetes-list-map-keys'] = [...ext.listMapKeys];
  if (ext.validations && ext.validations.length > 0) out['x-kubernetes-validations'] = ext.validations.map(celRule);
  return out;
}

function celRule(rule: CelRule): JSONSchemaNode {
  return { ...rule };
}

/** Removes what Kubernetes refuses in a structural schema, recursively. */
function structural(node: JSONSchemaNode): JSONSchemaNode {
  const out: JSONSchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (droppedKeys.has(key)) continue;
    if (key === 'properties' && isRecord(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, structural(asNode(v))]));
    } else if (key === 'items' && isRecord(value)) {
      out.items = structural(value);
    } else {
      out[key] = value;
    }
  }
  if (out.properties && out.type === undefined) out.type = 'object';
  if (Array.isArray(out.required) && out.required.length === 0) delete out.required;
  return out;
}

function isRecord(value: unknown): value is JSONSchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asNode(value: unknown): JSONSchemaNode {
  if (!isRecord(value)) throw new Error(`schema node is not an object: ${JSON.stringify(value)}`);
  return value;
}

/** A column showing one field (`status` or `reason`) of the condition of `type`. */
function conditionColumn(name: string, type: string, field: 'status' | 'reason', description: string): JSONSchemaNode {
  return { name, type: 'string', jsonPath: `.status.conditions[?(@.type=="${type}")].${field}`, description };
}

/** The printer columns of `kubectl get flantintegrations`. */
const printerColumns: JSONSchemaNode[] = [
  conditionColumn('Ready', ConditionType.Ready, 'status', 'Every enabled component works.'),
  {
    name: 'Madison',
    type: 'integer',
    jsonPath: '.status.madison.proxies',
    description: 'madison-proxy Deployments in place now (one per Madison backend); 0 once removed without a license.',
  },
  conditionColumn('Metrics', ConditionType.MetricsShippingReady, 'reason', 'Why metrics are shipped or not: Ready, Disabled, CRDNotInstalled, ...'),
  conditionColumn('Logs', ConditionType.LogShippingReady, 'reason', 'Why logs are shipped or not: Ready, Disabled, CRDNotInstalled, ...'),
  conditionColumn('Upmeter', ConditionType.UpmeterReady, 'reason', 'Why SLA metrics are shipped or not: Ready, Disabled, CRDNotInstalled, ...'),
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/** The whole object's OpenAPI schema, as it stands in the CRD. */
export function openAPIV3Schema(): JSONSchemaNode {
  return {
    type: 'object',
    description:
      'FlantIntegration connects the cluster to Flant\'s services: Madison alerts, metrics, logs and SLA metrics. One per cluster, named "default".',
    properties: {
      apiVersion: { type: 'string', description: 'Versioned schema of this representation of an object.' },
      kind: { type: 'string', description: 'REST resource this object represents.' },
      metadata: { type: 'object' },
      spec: toStructuralSchema(flantIntegrationSpecSchema),
      status: toStructuralSchema(flantIntegrationStatusSchema),
    },
    'x-kubernetes-validations': objectValidations.map(celRule),
  };
}

/** The CustomResourceDefinition of FlantIntegration. */
export function flantIntegrationCRD(): JSONSchemaNode {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase(), shortNames: ['fi'] },
      scope: 'Cluster',
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: printerColumns,
          schema: { openAPIV3Schema: openAPIV3Schema() },
        },
      ],
    },
  };
}

/** The CRD as the YAML file committed under `crds/`, with its regeneration header. */
export function flantIntegrationCRDYaml(): string {
  const header = '# Generated from src/api/schema.ts by `npm run generate`. Do not edit by hand.\n';
  const { stringify } = load('yaml') as typeof import('yaml');
  return header + stringify(flantIntegrationCRD(), { lineWidth: 0 });
}
