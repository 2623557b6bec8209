import { describe, expect, it } from 'vitest';
import { grantsOf, parseAudit, refused, transientlyRefused, uncovered, unused, usesOf, wildcards, type Grant } from './audit.js';

const user = 'system:serviceaccount:ns:ctl';
const line = (verb: string, ref: Record<string, string>, code = 200, uri = '/x') =>
  JSON.stringify({ verb, user: { username: user }, objectRef: ref, responseStatus: { code }, requestURI: uri, stage: 'ResponseComplete' });

const log = [
  line('list', { resource: 'secrets', namespace: 'a' }),
  line('watch', { resource: 'secrets', namespace: 'a' }, 200, '/api/v1/namespaces/a/secrets?fieldSelector=metadata.name%3Done&watch=true'),
  line('patch', { resource: 'services', namespace: 'b', name: 's' }, 403),
  line('get', { resource: 'configmaps', namespace: 'a', name: 'c' }),
  line('list', { resource: 'secrets', namespace: 'a' }, 403),
  JSON.stringify({ verb: 'get', user: { username: user }, requestURI: '/version', stage: 'ResponseComplete' }),
  JSON.stringify({
    verb: 'get',
    user: { username: 'someone-else' },
    objectRef: { resource: 'pods' },
    requestURI: '/api/v1/pods',
    stage: 'ResponseComplete',
  }),
].join('\n');

describe('least privilege from the audit log', () => {
  const uses = usesOf(parseAudit(log), user);
  const grants: Grant[] = [
    { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch', 'delete'], namespaces: ['a'], from: 'Role a/r' },
    { apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['one'], from: 'ClusterRole c' },
  ];

  it('reads only resource requests of the user, with the name of a field selector', () => {
    expect(uses.map((u) => `${u.verb} ${u.resource} ${u.name}`)).toEqual([
      'list secrets ',
      'watch secrets one',
      'patch services s',
      'get configmaps c',
      'list secrets ',
    ]);
  });

  it('names what was refused, what no grant of ours covers, and what was granted but never used', () => {
    expect(refused(uses)).toEqual(['patch /services in b (s)']);
    // Refused once but allowed otherwise (the server's authorizer cache after a restart): not a grant it lacks.
    expect(transientlyRefused(uses)).toEqual(['list /secrets in a']);
    expect(uncovered(uses, grants)).toEqual(['get /configmaps in a']);
    expect(unused(grants, uses)).toEqual(['delete /secrets in a, from Role a/r', 'get /secrets (one) cluster-wide, from ClusterRole c']);
  });

  it('counts a grant held only to be delegated, and a named exception, as justified', () => {
    const delegated: Grant[] = [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], from: 'ClusterRole exporter' }];
    expect(unused(grants, uses, delegated, [{ group: '', resource: 'secrets', verb: 'delete', why: 'test' }])).toEqual([]);
  });

  it('finds wildcards and reads the rules of rendered roles', () => {
    const objects = [
      { kind: 'ClusterRole', metadata: { name: 'c' }, rules: [{ apiGroups: ['*'], resources: ['pods'], verbs: ['get'] }] },
      { kind: 'Role', metadata: { name: 'r', namespace: 'a' }, rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['list'] }] },
      { kind: 'ServiceAccount', metadata: { name: 's' } },
    ];
    const parsed = grantsOf(objects);
    expect(parsed.map((g) => [g.from, g.namespaces])).toEqual([
      ['ClusterRole c', undefined],
      ['Role a/r', ['a']],
    ]);
    expect(wildcards(parsed)).toEqual(['ClusterRole c']);
  });
});
