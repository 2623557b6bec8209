/**
 * Where the licence key comes from (docs/architecture.md section 1): `spec.licenseKeySecretRef`, else
 * the password of the Deckhouse registry Secret. Pure: Secrets come from a lookup.
 */
import { Reason, type SecretKeyRef } from '../api/index.js';
import type { KubeObject } from '../reconciler/index.js';

/** The Deckhouse registry Secret read when no `licenseKeySecretRef` is given. */
export const registrySecret = { namespace: 'd8-system', name: 'deckhouse-registry' } as const;

/** A Secret as the cache holds it. */
export interface Secret extends KubeObject {
  data?: Record<string, string>;
}

/** Finds a Secret by namespace and name. */
export type SecretLookup = (namespace: string, name: string) => Secret | undefined;

/**
 * The namespaces Secrets are read in: the workloads' namespace, Deckhouse's `d8-system`
 * (its registry Secret), and `extra` (the controller's own namespace and `--secret-namespaces`).
 */
export function secretNamespaces(workloads: string, extra: readonly string[]): string[] {
  return [...new Set([workloads, registrySecret.namespace, ...extra])].sort();
}

/** The licence key and where it was read; or why there is none. */
export type LicenceResult =
  | { readonly found: true; readonly key: string; readonly source: string }
  | { readonly found: false; readonly reason: string; readonly message: string };

/**
 * Reads the licence key as the spec says, from the namespaces in `allowed` only;
 * `forbidden` are those of them the controller's RBAC does not let it read.
 */
export function resolveLicence(
  ref: SecretKeyRef | undefined,
  secrets: SecretLookup,
  allowed: readonly string[],
  forbidden: readonly string[] = [],
): LicenceResult {
  return ref ? readSecretKey(ref, secrets, allowed, forbidden) : fromRegistrySecret(secrets, forbidden);
}

/** Why the controller cannot read Secrets in `namespace`, and what grants it: for messages. */
export function forbiddenMessage(namespace: string): string {
  return (
    `the controller's RBAC does not let it list Secrets in namespace ${namespace} (no Role there, or the namespace does not exist): ` +
    `grant it the Role (README, Least privilege)`
  );
}

/**
 * Reads one key of a Secret; or says, naming the Secret, why it cannot. A reference outside
 * `allowed` is refused without reading anything: whoever may edit the FlantIntegration must
 * not be able to send an arbitrary Secret to a URL of their choosing.
 */
export function readSecretKey(
  ref: SecretKeyRef,
  secrets: SecretLookup,
  allowed: readonly string[],
  forbidden: readonly string[] = [],
): LicenceResult {
  const where = `Secret ${ref.namespace}/${ref.name}`;
  if (!allowed.includes(ref.namespace)) {
    return {
      found: false,
      reason: Reason.SecretNamespaceNotAllowed,
      message:
        `${where} was not read: the controller reads Secrets only in ${allowed.join(', ')}; move it there, or start the controller ` +
        `with --secret-namespaces=${ref.namespace}`,
    };
  }
  if (forbidden.includes(ref.namespace))
    return { found: false, reason: Reason.NamespaceForbidden, message: `${where} was not read: ${forbiddenMessage(ref.namespace)}` };
  const secret = secrets(ref.namespace, ref.name);
  if (!secret) return { found: false, reason: Reason.SecretNotFound, message: `${where} not found: create it with the key "${ref.key}"` };
  const encoded = secret.data?.[ref.key];
  const value = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8').trim();
  if (!value) return { found: false, reason: Reason.KeyNotFound, message: `${where} has no key "${ref.key}" (or it is empty)` };
  return { found: true, key: value, source: `${where}, key "${ref.key}"` };
}

function fromRegistrySecret(secrets: SecretLookup, forbidden: readonly string[]): LicenceResult {
  const where = `Secret ${registrySecret.namespace}/${registrySecret.name}`;
  if (forbidden.includes(registrySecret.namespace)) {
    return {
      found: false,
      reason: Reason.NoLicense,
      message:
        `no license key: spec.licenseKeySecretRef is not set, and the Deckhouse registry ${where} cannot be read (no Role in ` +
        `${registrySecret.namespace}: not a Deckhouse cluster, or installed without deckhouse.enabled); set spec.licenseKeySecretRef`,
    };
  }
  const secret = secrets(registrySecret.namespace, registrySecret.name);
  if (!secret) {
    return {
      found: false,
      reason: Reason.NoLicense,
      message: `no license key: spec.licenseKeySecretRef is not set and the Deckhouse registry ${where} does not exist`,
    };
  }
  const password = registryPassword(secret.data?.['.dockerconfigjson']);
  if (password === undefined) {
    return { found: false, reason: Reason.InvalidRegistrySecret, message: `${where} has no readable .dockerconfigjson` };
  }
  if (!password) return { found: false, reason: Reason.NoLicense, message: `${where} has no registry password: set spec.licenseKeySecretRef` };
  return { found: true, key: password, source: `the Deckhouse registry ${where}` };
}

interface DockerConfig {
  auths?: Record<string, { password?: string; auth?: string }>;
}

/**
 * The password of the first registry entry of a base64 `.dockerconfigjson`: its `password`,
 * else the part after `:` of its decoded `auth`; trimmed. Undefined when it cannot be parsed.
 */
export function registryPassword(dockerConfigBase64: string | undefined): string | undefined {
  if (!dockerConfigBase64) return undefined;
  let config: DockerConfig;
  try {
    config = JSON.parse(Buffer.from(dockerConfigBase64, 'base64').toString('utf8')) as DockerConfig;
  } catch {
    return undefined;
  }
  if (typeof config !== 'object' || config === null) return undefined;
  for (const entry of Object.values(config.auths ?? {})) {
    if (entry.password) return entry.password.trim();
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon >= 0) return decoded.slice(colon + 1).trim();
    }
  }
  return '';
}
