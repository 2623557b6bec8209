/**
 * Kubernetes-only schema facts that zod cannot express (CEL rules, int-or-string,
 * preserve-unknown-fields, list types). They are attached to a zod schema here and
 * read back by `crd.ts` when it writes the CRD, so the zod schema stays the one source.
 */
import type { ZodTypeAny, ZodTypeDef } from 'zod';

/** One `x-kubernetes-validations` entry: a CEL rule the API server enforces. */
export interface CelRule {
  /** CEL expression over `self` (and `oldSelf` for transition rules). */
  readonly rule: string;
  /** Message the API server returns when the rule fails. */
  readonly message: string;
  /** Path of the field the message is about, relative to the node holding the rule. */
  readonly fieldPath?: string;
  /** Reason the API server reports. @default "FieldValueInvalid" */
  readonly reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden' | 'FieldValueDuplicate';
}

/** What a schema node adds to its OpenAPI form on the Kubernetes side. */
export interface KubernetesExtensions {
  /** CEL rules checked by the API server at admission. */
  readonly validations?: readonly CelRule[];
  /** OpenAPI `type` to write instead of the one zod-to-json-schema derives. */
  readonly type?: 'integer' | 'string' | 'boolean' | 'number' | 'object' | 'array';
  /** `x-kubernetes-int-or-string: true`. */
  readonly intOrString?: boolean;
  /** `x-kubernetes-preserve-unknown-fields: true`. */
  readonly preserveUnknownFields?: boolean;
  /** `x-kubernetes-list-type`. */
  readonly listType?: 'atomic' | 'set' | 'map';
  /** `x-kubernetes-list-map-keys`, with `listType: "map"`. */
  readonly listMapKeys?: readonly string[];
  /** OpenAPI `format`, where zod has no matching check (e.g. `date-time` on a plain string). */
  readonly format?: string;
  /** OpenAPI `minLength`/`maxLength`, which the API server counts in characters (code points), where zod's own would count UTF-16 units. */
  readonly minLength?: number;
  readonly maxLength?: number;
}

const registry = new WeakMap<ZodTypeDef, KubernetesExtensions>();

/**
 * Attaches Kubernetes extensions to a schema and returns the same schema, so it can be
 * used inline: `k8s(z.string(), { intOrString: true })`. Extensions merge with earlier ones.
 */
export function k8s<T extends ZodTypeAny>(schema: T, extensions: KubernetesExtensions): T {
  const def = schema._def as ZodTypeDef;
  const before = registry.get(def) ?? {};
  registry.set(def, {
    ...before,
    ...extensions,
    validations: [...(before.validations ?? []), ...(extensions.validations ?? [])],
  });
  return schema;
}

/** The extensions attached to a zod definition, if any. */
export function extensionsOf(def: ZodTypeDef): KubernetesExtensions | undefined {
  return registry.get(def);
}
