/**
 * Least privilege from kube-apiserver's audit log: what a user did (verb, group, resource,
 * namespace, name) against what its RBAC grants. Pure, so the verdicts are unit-tested on
 * small logs (e2e/support/audit.test.ts) and the e2e spec runs them on the suite's real log.
 */

/** One request, as the audit log at Metadata level records it. */
export interface AuditEvent {
  readonly verb: string;
  readonly user: { readonly username: string };
  readonly objectRef?: {
    readonly apiGroup?: string;
    readonly resource?: string;
    readonly subresource?: string;
    readonly namespace?: string;
    readonly name?: string;
  };
  readonly responseStatus?: { readonly code?: number };
  readonly requestURI: string;
  readonly stage?: string;
}

/** A request reduced to what RBAC decides on. */
export interface Use {
  readonly verb: string;
  readonly group: string;
  /** `resource` or `resource/subresource`. */
  readonly resource: string;
  /** Empty for cluster-wide requests. */
  readonly namespace: string;
  /** The object's name (get, patch, delete), or the `metadata.name` field selector of a list or watch; empty otherwise. */
  readonly name: string;
  readonly code: number;
}

/** An RBAC rule where it applies: cluster-wide (ClusterRole), or in the namespaces of a Role. */
export interface Grant {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  /** Undefined: cluster-wide. */
  readonly namespaces?: readonly string[];
  /** Where the grant comes from, for messages. */
  readonly from: string;
}

/** A grant that needs no request of its own to be justified, and why. */
export interface Exception {
  readonly group: string;
  readonly resource: string;
  readonly verb: string;
  readonly why: string;
}

/** Parses JSON lines; resource requests only (discovery and /version need no grant). */
export function parseAudit(text: string): AuditEvent[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEvent)
    .filter((e) => e.objectRef?.resource !== undefined && e.stage !== 'RequestReceived');
}

/** The uses of one user (an exact name, or a pattern). */
export function usesOf(events: readonly AuditEvent[], user: string | RegExp): Use[] {
  const mine = events.filter((e) => (typeof user === 'string' ? e.user.username === user : user.test(e.user.username)));
  return mine.map((e) => {
    const ref = e.objectRef ?? {};
    const selected = /fieldSelector=metadata\.name%3D([^&]+)/.exec(e.requestURI)?.[1];
    return {
      verb: e.verb,
      group: ref.apiGroup ?? '',
      resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? ''),
      namespace: ref.namespace ?? '',
      name: ref.name ?? (selected ? decodeURIComponent(selected) : ''),
      code: e.responseStatus?.code ?? 0,
    };
  });
}

function covers(grant: Grant, use: Use): boolean {
  if (!grant.apiGroups.includes(use.group) || !grant.resources.includes(use.resource) || !grant.verbs.includes(use.verb)) return false;
  if (grant.namespaces && !grant.namespaces.includes(use.namespace)) return false;
  if (grant.resourceNames?.length && !grant.resourceNames.includes(use.name)) return false;
  return true;
}

const useKey = (u: Use) => `${u.verb} ${u.group}/${u.resource}${u.namespace ? ` in ${u.namespace}` : ''}${u.name ? ` (${u.name})` : ''}`;

/**
 * Every (verb, group/resource, namespace, name) the user was refused and never allowed: a grant
 * it lacks. RBAC does not change during a run, so one refused and also allowed was refused by a
 * passing state of the server (its authorizer's cache right after a kube-apiserver restart):
 * see {@link transientlyRefused}.
 */
export function refused(uses: readonly Use[]): string[] {
  const allowed = new Set(uses.filter((u) => u.code !== 403).map(useKey));
  return [...new Set(uses.filter((u) => u.code === 403).map(useKey))].filter((k) => !allowed.has(k)).sort();
}

/** Requests refused that the same RBAC allowed at another time. */
export function transientlyRefused(uses: readonly Use[]): string[] {
  const allowed = new Set(uses.filter((u) => u.code !== 403).map(useKey));
  return [...new Set(uses.filter((u) => u.code === 403).map(useKey))].filter((k) => allowed.has(k)).sort();
}

/** Uses that succeeded without any of `grants` covering them (allowed by some other binding). */
export function uncovered(uses: readonly Use[], grants: readonly Grant[]): string[] {
  return [
    ...new Set(
      uses
        .filter((u) => u.code !== 403 && !grants.some((g) => covers(g, u)))
        .map((u) => `${u.verb} ${u.group}/${u.resource}${u.namespace ? ` in ${u.namespace}` : ''}`),
    ),
  ].sort();
}

/**
 * Every verb on every resource a grant allows that no use needed: unused unless some use
 * falls under exactly that grant's (group, resource, verb, names, namespaces), or `delegated`
 * grants it on (RBAC lets one grant only what one holds), or it is an `exception`.
 */
export function unused(
  grants: readonly Grant[],
  uses: readonly Use[],
  delegated: readonly Grant[] = [],
  exceptions: readonly Exception[] = [],
): string[] {
  const out: string[] = [];
  for (const g of grants) {
    for (const group of g.apiGroups) {
      for (const resource of g.resources) {
        for (const verb of g.verbs) {
          const one: Grant = { ...g, apiGroups: [group], resources: [resource], verbs: [verb] };
          if (uses.some((u) => u.code !== 403 && covers(one, u))) continue;
          if (delegated.some((d) => d.apiGroups.includes(group) && d.resources.includes(resource) && d.verbs.includes(verb))) continue;
          if (exceptions.some((e) => e.group === group && e.resource === resource && e.verb === verb)) continue;
          const names = g.resourceNames?.length ? ` (${g.resourceNames.join(', ')})` : '';
          out.push(`${verb} ${group}/${resource}${names} ${g.namespaces ? `in ${g.namespaces.join(', ')}` : 'cluster-wide'}, from ${g.from}`);
        }
      }
    }
  }
  return out;
}

/** Rules with `*` anywhere. */
export function wildcards(grants: readonly Grant[]): string[] {
  return grants.filter((g) => [...g.apiGroups, ...g.resources, ...g.verbs, ...(g.resourceNames ?? [])].includes('*')).map((g) => g.from);
}

/** The rules of ClusterRoles and Roles among `objects` (as the cdk8s app renders them). */
export function grantsOf(
  objects: ReadonlyArray<Record<string, unknown>>,
  roleNamespaces: (role: { name: string; namespace: string }) => readonly string[] = (r) => [r.namespace],
): Grant[] {
  return objects.flatMap((o) => {
    if (o.kind !== 'ClusterRole' && o.kind !== 'Role') return [];
    const meta = o.metadata as { name: string; namespace?: string };
    const rules = (o.rules ?? []) as Array<{ apiGroups?: string[]; resources?: string[]; verbs: string[]; resourceNames?: string[] }>;
    const namespaces = o.kind === 'Role' ? roleNamespaces({ name: meta.name, namespace: meta.namespace ?? '' }) : undefined;
    return rules.map((r) => ({
      apiGroups: r.apiGroups ?? [],
      resources: r.resources ?? [],
      verbs: r.verbs,
      resourceNames: r.resourceNames,
      namespaces,
      from: `${String(o.kind)} ${meta.namespace ? `${meta.namespace}/` : ''}${meta.name}`,
    }));
  });
}
