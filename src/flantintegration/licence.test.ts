import { describe, expect, it } from 'vitest';
import { registryPassword, resolveLicence, secretNamespaces, type Secret, type SecretLookup } from './licence.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function secrets(...list: Array<{ ns: string; name: string; data: Record<string, string> }>): SecretLookup {
  const map = new Map<string, Secret>(list.map((s) => [`${s.ns}/${s.name}`, { metadata: { name: s.name, namespace: s.ns }, data: s.data }]));
  return (ns, name) => map.get(`${ns}/${name}`);
}

const ref = { namespace: 'fi', name: 'lic', key: 'license-key' };
const allowed = secretNamespaces('fi', ['flant-integration-system']);
const dockerConfig = (entry: object) => ({ '.dockerconfigjson': b64(JSON.stringify({ auths: { 'registry.deckhouse.io': entry } })) });

describe('resolveLicense', () => {
  const cases: Array<{ name: string; ref?: typeof ref; lookup: SecretLookup; want: object }> = [
    {
      name: 'reads the referenced Secret, trimmed',
      ref,
      lookup: secrets({ ns: 'fi', name: 'lic', data: { 'license-key': b64(' KEY\n') } }),
      want: { found: true, key: 'KEY' },
    },
    {
      name: 'names a missing Secret',
      ref,
      lookup: secrets(),
      want: { found: false, reason: 'SecretNotFound', message: 'Secret fi/lic not found: create it with the key "license-key"' },
    },
    {
      name: 'names a missing key',
      ref,
      lookup: secrets({ ns: 'fi', name: 'lic', data: { other: b64('x') } }),
      want: { found: false, reason: 'KeyNotFound', message: 'Secret fi/lic has no key "license-key" (or it is empty)' },
    },
    {
      name: 'refuses an empty key',
      ref,
      lookup: secrets({ ns: 'fi', name: 'lic', data: { 'license-key': b64('  ') } }),
      want: { found: false, reason: 'KeyNotFound' },
    },
    {
      name: 'falls back to the registry password',
      lookup: secrets({ ns: 'd8-system', name: 'deckhouse-registry', data: dockerConfig({ password: 'PASS ' }) }),
      want: { found: true, key: 'PASS' },
    },
    {
      name: 'reads the password from auth',
      lookup: secrets({ ns: 'd8-system', name: 'deckhouse-registry', data: dockerConfig({ auth: b64('license-token:AUTHPASS') }) }),
      want: { found: true, key: 'AUTHPASS' },
    },
    { name: 'says NoLicense without any Secret', lookup: secrets(), want: { found: false, reason: 'NoLicense' } },
    {
      name: 'says InvalidRegistrySecret for garbage',
      lookup: secrets({ ns: 'd8-system', name: 'deckhouse-registry', data: { '.dockerconfigjson': b64('{not json') } }),
      want: { found: false, reason: 'InvalidRegistrySecret' },
    },
    {
      name: 'refuses a Secret outside the allowed namespaces without reading it',
      ref: { namespace: 'kube-system', name: 'lic', key: 'license-key' },
      lookup: () => {
        throw new Error('the Secret must not be read');
      },
      want: {
        found: false,
        reason: 'SecretNamespaceNotAllowed',
        message:
          'Secret kube-system/lic was not read: the controller reads Secrets only in d8-system, fi, flant-integration-system; move it ' +
          'there, or start the controller with --secret-namespaces=kube-system',
      },
    },
    {
      name: 'ignores the registry Secret when a ref is given',
      ref,
      lookup: secrets({ ns: 'd8-system', name: 'deckhouse-registry', data: dockerConfig({ password: 'P' }) }),
      want: { found: false, reason: 'SecretNotFound' },
    },
  ];

  it.each(cases)('$name', ({ ref: r, lookup, want }) => {
    expect(resolveLicence(r, lookup, allowed)).toMatchObject(want);
  });

  it('never puts the key in a failure message', () => {
    const result = resolveLicence(ref, secrets({ ns: 'fi', name: 'lic', data: { other: b64('SECRET') } }), allowed);
    expect(JSON.stringify(result)).not.toContain('SECRET');
  });
});

describe('registryPassword', () => {
  it('gives empty for entries without credentials', () => {
    expect(registryPassword(b64(JSON.stringify({ auths: { r: {} } })))).toBe('');
  });
});
