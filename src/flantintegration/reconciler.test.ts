import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConditionType, type FlantIntegrationSpec } from '../api/index.js';
import {
  FakeClock,
  isTerminal,
  KubeApiError,
  LeadershipLostError,
  NotOwnedError,
  TerminalError,
  type Condition,
  type KindRef,
  type KubeObject,
} from '../reconciler/index.js';
import { defineComponent, type AnyComponent, type Component, type Gathered } from './contract.js';
import type { CRDObject } from './crds.js';
import type { Secret } from './licence.js';
import { FlantIntegrationReconciler, type FlantIntegrationAPI, type ObjectWriter } from './reconciler.js';

const log = pino({ level: 'silent' });
const licenceRef = { namespace: 'ns', name: 'license', key: 'key' };

/** Records what the spine writes. */
class FakeWriter implements ObjectWriter {
  applied: KubeObject[] = [];
  pruned: Array<{ component: string; kinds: KindRef[]; ownerUID: string }> = [];
  deleted: Array<{ component: string; kinds: KindRef[]; ownerUID: string }> = [];
  /** Identities (`Kind name`) that exist and belong to someone else. */
  foreign = new Set<string>();
  /** Kinds whose path the server answers 404 without a Status: a CRD established, its handler not up yet. */
  notServed = new Set<string>();
  async apply(obj: KubeObject) {
    const id = `${obj.kind} ${obj.metadata?.name}`;
    if (this.foreign.has(id)) throw new NotOwnedError(id);
    if (this.notServed.has(obj.kind ?? '')) throw new KubeApiError(404, '', `PATCH /apis/${obj.apiVersion}/toys: HTTP 404: 404 page not found`);
    this.applied.push(obj);
    return obj;
  }
  /** What each prune was told to keep, as `Kind name`. */
  keptOnPrune: string[][] = [];
  async prune(component: string, desired: readonly KubeObject[], kinds: readonly KindRef[], _log: unknown, ownerUID: string) {
    this.pruned.push({ component, kinds: [...kinds], ownerUID });
    this.keptOnPrune.push(desired.map((o) => `${o.kind} ${o.metadata?.name}`));
    return [];
  }
  async deleteComponent(component: string, kinds: readonly KindRef[], _log: unknown, ownerUID: string) {
    this.deleted.push({ component, kinds: [...kinds], ownerUID });
    return [];
  }
  /** What each cleanup on deletion was told to keep (and so released), as `component: Kind name`. */
  released: string[] = [];
  async retire(component: string, kept: readonly KubeObject[]) {
    this.keptOnPrune.push(kept.map((o) => `${o.kind} ${o.metadata?.name}`));
    this.released.push(...kept.map((o) => `${component}: ${o.kind} ${o.metadata?.name}`));
    return { deleted: [], released: [] };
  }
  of(component: string): KubeObject[] {
    return this.applied.filter((o) => o.metadata?.labels?.['integration.flant.com/component'] === component);
  }
}

/** The stored FlantIntegration: status patches land on it, as the API server would. */
class FakeAPI implements FlantIntegrationAPI {
  statusWrites = 0;
  constructor(private readonly fi: KubeObject) {}
  async kubeSystemUID() {
    return 'kube-system-uid';
  }
  async namespaceExists() {
    return false;
  }
  async serviceExists() {
    return false;
  }
  async mayCreate() {
    return true;
  }
  async patchStatus(_name: string, status: Record<string, unknown>) {
    this.statusWrites++;
    const merged: Record<string, unknown> = { ...(this.fi.status as Record<string, unknown> | undefined), ...status };
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    this.fi.status = merged;
  }
  async patchFinalizers(_name: string, finalizers: string[]) {
    this.fi.metadata = { ...this.fi.metadata, finalizers };
  }
}

interface ToyFacts {
  readonly licence: string;
  readonly apiVersion: string;
}

/** A component writing one object of a CRD kind, served as v2 (best) or v1. */
function toy(options: { throws?: boolean; terminal?: boolean; blocked?: boolean; echoes?: boolean } = {}): Component<ToyFacts> {
  return {
    name: 'toy',
    enabledField: 'spec.logs.enabled',
    enabled: (spec: FlantIntegrationSpec) => spec.logs.enabled,
    needsLicence: true,
    crds: [{ group: 'toys.example.com', kind: 'Toy', plural: 'toys', versions: ['v2', 'v1'] }],
    kinds: [{ apiVersion: 'v1', kind: 'ConfigMap' }],
    informers: [],
    async gather(ctx): Promise<Gathered<ToyFacts>> {
      if (options.terminal) throw new TerminalError('the toy cannot be written, ever');
      if (options.throws) throw new Error('the toy API is down');
      if (options.echoes) throw new Error(`the toy API said: bad token Bearer ${ctx.licenceKey ?? ''}`);
      if (options.blocked)
        return { blocked: [{ type: ConditionType.LogShippingReady, status: 'False', reason: 'Progressing', message: 'waiting for a toy' }] };
      return { facts: { licence: ctx.licenceKey ?? '', apiVersion: ctx.served('Toy') ?? '' } };
    },
    offlineFacts: () => ({ licence: 'x', apiVersion: 'toys.example.com/v2' }),
    render: (_spec, facts) => [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'toy-settings', namespace: 'ns' } },
      { apiVersion: facts.apiVersion, kind: 'Toy', metadata: { name: 'toy' }, spec: { token: facts.licence } },
    ],
    readiness: [{ type: ConditionType.LogShippingReady, checks: [], ready: ({ facts }) => `toy applied as ${facts.apiVersion}` }],
  };
}

/** A component that needs nothing, for "the others go on". */
const plain: Component<null> = {
  name: 'plain',
  enabledField: 'spec.upmeter.enabled',
  enabled: (spec) => spec.upmeter.enabled,
  needsLicence: false,
  crds: [],
  kinds: [{ apiVersion: 'v1', kind: 'ConfigMap' }],
  informers: [],
  gather: async () => ({ facts: null }),
  offlineFacts: () => null,
  render: () => [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain', namespace: 'ns' } }],
  readiness: [{ type: ConditionType.UpmeterReady, checks: [], ready: () => 'plain applied' }],
};

function crd(versions: string[], established = true): CRDObject {
  return {
    metadata: { name: 'toys.toys.example.com' },
    spec: {
      group: 'toys.example.com',
      names: { plural: 'toys', kind: 'Toy' },
      scope: 'Cluster',
      versions: versions.map((name) => ({ name, served: true })),
    },
    status: { conditions: [{ type: 'Established', status: established ? 'True' : 'False' }] },
  };
}

function licenceSecret(value: string): Secret {
  return { metadata: { namespace: 'ns', name: 'license' }, data: { key: Buffer.from(value).toString('base64') } };
}

interface World {
  readonly spec?: Record<string, unknown>;
  readonly licence?: string;
  readonly crd?: CRDObject;
  readonly components?: AnyComponent[];
  /** Namespaces the controller's RBAC does not let it read Secrets in. */
  readonly forbidden?: string[];
  /** Namespaces whose Secrets are not known yet. */
  readonly unsettled?: string[];
  /** The Secret kube-system/d8-cluster-configuration. */
  readonly clusterConfiguration?: Secret;
}

function setup(world: World) {
  const fi: KubeObject = {
    apiVersion: 'integration.flant.com/v1alpha1',
    kind: 'FlantIntegration',
    metadata: { name: 'default', uid: 'fi-uid', generation: 1 },
    spec: { namespace: 'ns', licenseKeySecretRef: licenceRef, ...world.spec },
  };
  const secrets = new Map<string, Secret>(world.licence ? [['ns/license', licenceSecret(world.licence)]] : []);
  const crds = new Map<string, CRDObject>(world.crd ? [['toys.toys.example.com', world.crd]] : []);
  const writer = new FakeWriter();
  const api = new FakeAPI(fi);
  const events: string[] = [];
  const clock = new FakeClock();
  const reconciler = new FlantIntegrationReconciler({
    api,
    writer,
    events: { record: async (_o, type, reason) => void events.push(`${type} ${reason}`) },
    clock,
    flantIntegrations: { get: (key) => (key === 'default' ? fi : undefined) },
    secrets: { get: (key) => secrets.get(key) },
    crds: { get: (name) => crds.get(name) },
    cache: { list: () => [] },
    components: world.components ?? [defineComponent(toy()), defineComponent(plain)],
    forbiddenSecretNamespaces: () => world.forbidden ?? [],
    unsettledSecretNamespaces: () => world.unsettled ?? [],
    clusterConfiguration: () => world.clusterConfiguration,
  });
  const condition = (type: string) => ((fi.status as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
  return { fi, secrets, crds, writer, api, events, clock, reconciler, condition, run: () => reconciler.reconcile('default', log) };
}

describe('FlantIntegration reconciler: namespaces its RBAC does not let it read', () => {
  it('writes nothing into a spec.namespace it may not read, and says so on every condition, naming it', async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']), forbidden: ['ns'] });
    await w.run();
    expect(w.writer.applied).toEqual([]);
    expect(w.writer.pruned).toEqual([]);
    expect(w.condition('LogShippingReady')).toMatchObject({ status: 'False', reason: 'NamespaceForbidden' });
    expect(w.condition('LogShippingReady')?.message).toContain('spec.namespace ns: ');
    expect(w.condition('UpmeterReady')).toMatchObject({ status: 'False', reason: 'NamespaceForbidden' });
    // The licence is in that namespace too: Ready names it through the licence.
    expect(w.condition('LicenseValid')).toMatchObject({ status: 'False', reason: 'NamespaceForbidden' });
    expect(w.condition('Ready')?.message).toContain(
      "Secret ns/license was not read: the controller's RBAC does not let it list Secrets in namespace ns",
    );
    expect(w.events).toContain('Warning NamespaceForbidden');
  });

  it('decides nothing while a namespace it reads Secrets in is not known yet, and looks again in 1 s', async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']), unsettled: ['ns'] });
    expect(await w.run()).toEqual({ requeueAfterMs: 1000 });
    expect(w.writer.applied).toEqual([]);
    expect(w.api.statusWrites).toBe(0);
  });

  it('says why a license in a namespace it may not read was not read', async () => {
    const w = setup({
      licence: 'LIC',
      crd: crd(['v2']),
      spec: { licenseKeySecretRef: { namespace: 'd8-system', name: 'license', key: 'key' } },
      forbidden: ['d8-system'],
    });
    await w.run();
    expect(w.condition('LicenseValid')).toMatchObject({ status: 'False', reason: 'NamespaceForbidden' });
    expect(w.condition('LicenseValid')?.message).toContain('list Secrets in namespace d8-system');
  });

  it('without licenseKeySecretRef and no Role in d8-system: NoLicense, saying the registry Secret cannot be read', async () => {
    const w = setup({ crd: crd(['v2']), spec: { licenseKeySecretRef: undefined }, forbidden: ['d8-system'] });
    await w.run();
    expect(w.condition('LicenseValid')).toMatchObject({ status: 'False', reason: 'NoLicense' });
    expect(w.condition('LicenseValid')?.message).toContain('cannot be read (no Role in d8-system');
  });

  it('does not look for its Secrets in a namespace it may not read', async () => {
    const secretKind = { apiVersion: 'v1', kind: 'Secret' };
    const withSecrets = defineComponent({ ...plain, kinds: [secretKind] });
    const w = setup({ licence: 'LIC', components: [withSecrets], forbidden: ['d8-system'] });
    await w.run();
    const namespaces = w.writer.pruned[0]?.kinds.find((k) => k.kind === 'Secret')?.namespaces;
    expect(namespaces).toContain('ns');
    expect(namespaces).not.toContain('d8-system');
  });
});

describe('FlantIntegration reconciler: spec.namespace changes', () => {
  const secretKind = { apiVersion: 'v1', kind: 'Secret' };
  const withSecrets = (throws = false) =>
    defineComponent({ ...plain, kinds: [secretKind], gather: async () => (throws ? Promise.reject(new Error('down')) : { facts: null }) });

  it('records the namespace it wrote to, looks for its Secrets in the former one after a change, and forgets it once through', async () => {
    const w = setup({ licence: 'LIC', components: [withSecrets()] });
    await w.run();
    expect((w.fi.status as { namespace?: string }).namespace).toBe('ns');
    w.fi.spec = { ...(w.fi.spec as object), namespace: 'other', licenseKeySecretRef: { namespace: 'ns', name: 'license', key: 'key' } };
    w.writer.pruned.length = 0;
    await w.run();
    expect(w.writer.pruned[0]?.kinds.find((k) => k.kind === 'Secret')?.namespaces).toContain('ns');
    expect((w.fi.status as { namespace?: string }).namespace).toBe('other');
    w.writer.pruned.length = 0;
    await w.run();
    expect(w.writer.pruned[0]?.kinds.find((k) => k.kind === 'Secret')?.namespaces).not.toContain('ns');
  });

  it('keeps the former namespace while a component fails, so its cleanup is tried again', async () => {
    const w = setup({ licence: 'LIC', components: [withSecrets(true)] });
    w.fi.status = { namespace: 'before' };
    await expect(w.run()).rejects.toThrow();
    expect((w.fi.status as { namespace?: string }).namespace).toBe('before');
    expect(w.writer.pruned).toEqual([]);
  });
});

describe('FlantIntegration reconciler: the same steps for every component', () => {
  it.each<{ name: string; world: World; toy: Partial<Condition>; applied: number }>([
    {
      name: 'everything there',
      world: { licence: 'LIC', crd: crd(['v1', 'v2']) },
      toy: { status: 'True', reason: 'Ready', message: 'toy applied as toys.example.com/v2' },
      applied: 2,
    },
    {
      name: 'disabled',
      world: { licence: 'LIC', crd: crd(['v2']), spec: { logs: { enabled: false } } },
      toy: { status: 'True', reason: 'Disabled', message: 'spec.logs.enabled is false' },
      applied: 0,
    },
    { name: 'no license', world: { crd: crd(['v2']) }, toy: { status: 'False', reason: 'LicenseMissing' }, applied: 0 },
    { name: 'CRD missing', world: { licence: 'LIC' }, toy: { status: 'False', reason: 'CRDNotInstalled' }, applied: 0 },
    {
      name: 'CRD not Established yet',
      world: { licence: 'LIC', crd: crd(['v2'], false) },
      toy: { status: 'False', reason: 'CRDNotInstalled' },
      applied: 0,
    },
    {
      name: 'CRD serving none of the versions it writes',
      world: { licence: 'LIC', crd: crd(['v3']) },
      toy: { status: 'False', reason: 'CRDNotInstalled' },
      applied: 0,
    },
    {
      name: 'only the older version served',
      world: { licence: 'LIC', crd: crd(['v1']) },
      toy: { status: 'True', message: 'toy applied as toys.example.com/v1' },
      applied: 2,
    },
    {
      name: 'blocked by its own facts',
      world: { licence: 'LIC', crd: crd(['v2']), components: [defineComponent(toy({ blocked: true }))] },
      toy: { status: 'False', reason: 'Progressing', message: 'waiting for a toy' },
      applied: 0,
    },
  ])('$name', async ({ world, toy: expected, applied }) => {
    const w = setup(world);
    await w.run();
    expect(w.condition('LogShippingReady')).toMatchObject(expected);
    expect(w.writer.of('toy')).toHaveLength(applied);
  });

  it('names the missing CRD and the switch in the message, and the other components go on', async () => {
    const w = setup({ licence: 'LIC' });
    await w.run();
    expect(w.condition('LogShippingReady')?.message).toBe(
      "the CRD of Toy (toys.toys.example.com) is not installed, so nothing is written: install it (Deckhouse's module that owns it), or " +
        'set spec.logs.enabled: false',
    );
    expect(w.condition('UpmeterReady')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(w.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'ComponentsNotReady',
      message: 'not ready: LogShippingReady (CRDNotInstalled)',
    });
    expect(w.events).toContain('Warning CRDNotInstalled');
  });

  it('writes the objects once the CRD appears, at its best served version', async () => {
    const w = setup({ licence: 'LIC' });
    await w.run();
    w.crds.set('toys.toys.example.com', crd(['v1', 'v2']));
    await w.run();
    expect(w.writer.of('toy').map((o) => o.apiVersion)).toEqual(['v1', 'toys.example.com/v2']);
    expect(w.condition('LogShippingReady')).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(w.writer.pruned.find((p) => p.component === 'toy')?.kinds).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', namespaces: ['ns'] },
      { apiVersion: 'toys.example.com/v2', kind: 'Toy', namespaces: ['ns'] },
    ]);
  });

  it('labels every object as ours, owned by the FlantIntegration', async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']) });
    await w.run();
    expect(w.writer.of('toy')[1]?.metadata).toEqual({
      name: 'toy',
      labels: { 'app.kubernetes.io/managed-by': 'flant-integration', 'integration.flant.com/component': 'toy' },
      ownerReferences: [
        {
          apiVersion: 'integration.flant.com/v1alpha1',
          kind: 'FlantIntegration',
          name: 'default',
          uid: 'fi-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
  });

  it("deletes a disabled component's objects among its built-in and served CRD kinds", async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']), spec: { logs: { enabled: false } } });
    await w.run();
    expect(w.writer.deleted).toEqual([
      {
        component: 'toy',
        kinds: [
          { apiVersion: 'v1', kind: 'ConfigMap', namespaces: ['ns'] },
          { apiVersion: 'toys.example.com/v2', kind: 'Toy', namespaces: ['ns'] },
        ],
        ownerUID: 'fi-uid',
      },
    ]);
  });

  it('reports a component that throws, goes on with the others, and retries', async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']), components: [defineComponent(toy({ throws: true })), defineComponent(plain)] });
    await expect(w.run()).rejects.toThrow('components failed: toy: the toy API is down');
    expect(w.condition('LogShippingReady')).toMatchObject({
      status: 'False',
      reason: 'APIError',
      message: 'the toy API is down (retrying with backoff)',
    });
    expect(w.writer.of('plain')).toHaveLength(1);
  });

  it('takes a kind established but not served yet (404 without a Status) for a moment, not a failure: CRDNotInstalled, again in 1 s', async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']), components: [defineComponent(toy()), defineComponent(plain)] });
    w.writer.notServed.add('Toy');
    expect(await w.run()).toEqual({ requeueAfterMs: 1000 });
    expect(w.condition('LogShippingReady')).toMatchObject({ status: 'False', reason: 'CRDNotInstalled' });
    expect(w.condition('LogShippingReady')?.message).toContain('established but not served yet');
    expect(w.writer.of('plain')).toHaveLength(1);
    w.writer.notServed.clear();
    await w.run();
    expect(w.condition('LogShippingReady')).toMatchObject({ status: 'True' });
  });

  it('leaves an object that is not ours untouched, applies the rest, and says Conflict naming it', async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']) });
    w.writer.foreign.add('ConfigMap toy-settings');
    await expect(w.run()).resolves.toBeUndefined();
    expect(w.writer.of('toy').map((o) => o.kind)).toEqual(['Toy']);
    expect(w.condition('LogShippingReady')).toMatchObject({
      status: 'False',
      reason: 'Conflict',
      message: expect.stringContaining('ConfigMap toy-settings exists and was not made by this controller'),
    });
    expect(w.condition('UpmeterReady')).toMatchObject({ status: 'True' });
    expect(w.writer.pruned.every((p) => p.ownerUID === 'fi-uid')).toBe(true);
  });

  it('removes what a component runs when the license goes, but for what it keeps, and says LicenseMissing', async () => {
    const kept = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'toy-key', namespace: 'ns' } };
    const w = setup({ crd: crd(['v2']), components: [defineComponent({ ...toy(), keptWithoutLicence: () => [kept] })] });
    await w.run();
    // The namespace we create carries what Deckhouse's Prometheus selects our rules and monitors by.
    expect(w.writer.applied).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: {
          name: 'ns',
          labels: { 'prometheus.deckhouse.io/rules-watcher-enabled': 'true', 'prometheus.deckhouse.io/monitor-watcher-enabled': 'true' },
        },
      },
    ]);
    expect(w.writer.pruned).toEqual([
      {
        component: 'toy',
        kinds: [
          { apiVersion: 'v1', kind: 'ConfigMap', namespaces: ['ns'] },
          { apiVersion: 'toys.example.com/v2', kind: 'Toy', namespaces: ['ns'] },
        ],
        ownerUID: 'fi-uid',
      },
    ]);
    expect(w.writer.keptOnPrune.at(-1)).toEqual(['ConfigMap toy-key']);
    expect(w.condition('LogShippingReady')).toMatchObject({
      status: 'False',
      reason: 'LicenseMissing',
      message: expect.stringContaining('its objects are removed'),
    });
  });

  it('on deletion removes every object but what a component keeps, releases that, and drops the finalizer', async () => {
    const kept = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'toy-key', namespace: 'ns' } };
    const w = setup({
      licence: 'L',
      crd: crd(['v2']),
      components: [defineComponent({ ...toy(), keptWithoutLicence: () => [kept] }), defineComponent(plain)],
    });
    await w.run();
    w.fi.metadata = { ...w.fi.metadata, deletionTimestamp: '2026-12-01T00:00:00Z' };
    w.writer.keptOnPrune = [];
    await w.run();
    expect(w.writer.keptOnPrune).toEqual([['ConfigMap toy-key'], []]);
    expect(w.writer.released).toEqual(['toy: ConfigMap toy-key']);
    expect(w.fi.metadata?.finalizers).toEqual([]);
  });

  it('writes nothing more once leadership is lost in the middle of a reconcile', async () => {
    const lost = new AbortController();
    const w = setup({
      licence: 'LIC',
      crd: crd(['v2']),
      components: [
        defineComponent({
          ...toy(),
          gather: async (ctx) => (lost.abort(), { facts: { licence: ctx.licenceKey ?? '', apiVersion: 'toys.example.com/v2' } }),
        }),
        defineComponent(plain),
      ],
    });
    await expect(w.reconciler.reconcile('default', log, lost.signal)).rejects.toThrow(LeadershipLostError);
    expect(w.writer.applied.map((o) => o.kind)).toEqual(['Namespace']);
    expect(w.writer.pruned).toEqual([]);
    expect(w.api.statusWrites).toBe(0);
  });

  it('writes no status when nothing changed, however much later', async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']) });
    await w.run();
    expect(w.api.statusWrites).toBe(1);
    await w.clock.advance(3_600_000);
    await w.run();
    await w.run();
    expect(w.api.statusWrites).toBe(1);
  });

  it('puts a new license in every object that carries it, in one reconcile', async () => {
    const w = setup({ licence: 'LIC-OLD', crd: crd(['v2']) });
    await w.run();
    w.secrets.set('ns/license', licenceSecret('LIC-NEW'));
    await w.run();
    expect(
      w.writer
        .of('toy')
        .filter((o) => o.kind === 'Toy')
        .map((o) => (o.spec as { token: string }).token),
    ).toEqual(['LIC-OLD', 'LIC-NEW']);
  });

  it('scrubs the license out of a message that echoes it, before it reaches the status or an Event', async () => {
    const w = setup({ licence: 'LIC-ECHOED-31', crd: crd(['v2']), components: [defineComponent(toy({ echoes: true }))] });
    await expect(w.run()).rejects.toThrow('[REDACTED]');
    expect(w.condition('LogShippingReady')?.message).toBe('the toy API said: bad token Bearer [REDACTED] (retrying with backoff)');
    expect(JSON.stringify(w.fi.status)).not.toContain('LIC-ECHOED-31');
  });

  it('never puts the license in the status or an Event', async () => {
    const w = setup({ licence: 'LIC-SECRET-9', crd: crd(['v2']) });
    await w.run();
    expect(JSON.stringify(w.fi.status)).not.toContain('LIC-SECRET-9');
    expect(w.events.join()).not.toContain('LIC-SECRET-9');
  });
});

describe('FlantIntegration reconciler: a spec it cannot use', () => {
  it("says SpecInvalid on Ready and Stalled, naming the field, with an Event; changes nothing and keeps the components' conditions", async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']) });
    await w.run();
    expect(w.condition('LogShippingReady')).toMatchObject({ status: 'True' });
    const applied = w.writer.applied.length;
    // What an older CRD admits and this controller's parse refuses.
    w.fi.spec = { ...(w.fi.spec as object), connect: { url: 'ftp://connect.example' } };
    w.fi.metadata = { ...w.fi.metadata, generation: 2 };
    expect(await w.run()).toBeUndefined();
    expect(w.condition('Ready')).toMatchObject({
      status: 'False',
      reason: 'SpecInvalid',
      observedGeneration: 2,
      message: expect.stringMatching(/^spec\.connect\.url: .*nothing is changed until it is fixed$/),
    });
    expect(w.condition('Stalled')).toMatchObject({ status: 'True', reason: 'SpecInvalid', observedGeneration: 2 });
    expect(w.condition('LogShippingReady')).toMatchObject({ status: 'True', observedGeneration: 1 });
    expect((w.fi.status as { observedGeneration?: number }).observedGeneration).toBe(2);
    expect(w.writer.applied.length).toBe(applied);
    expect(w.writer.pruned.length + w.writer.deleted.length).toBe(2);
    expect(w.events.filter((e) => e.includes('SpecInvalid'))).toEqual(['Warning SpecInvalid']);

    // Again with nothing changed: no second write. Fixed: Ready again, Stalled gone.
    const writes = w.api.statusWrites;
    await w.run();
    expect(w.api.statusWrites).toBe(writes);
    w.fi.spec = { ...(w.fi.spec as object), connect: undefined };
    w.fi.metadata = { ...w.fi.metadata, generation: 3 };
    await w.run();
    expect(w.condition('Ready')).toMatchObject({ status: 'True', observedGeneration: 3 });
    expect(w.condition('Stalled')).toBeUndefined();
  });

  it("is Stalled with the license's reason when the license Secret is missing, Reconciling while a component converges", async () => {
    const w = setup({ crd: crd(['v2']) });
    await w.run();
    expect(w.condition('Stalled')).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
    expect(w.condition('Reconciling')).toBeUndefined();
    const blocked = setup({ licence: 'LIC', crd: crd(['v2']), components: [defineComponent(toy({ blocked: true }))] });
    await blocked.run();
    expect(blocked.condition('Reconciling')).toMatchObject({ status: 'True', reason: 'Progressing' });
    expect(blocked.condition('Stalled')).toBeUndefined();
  });
});

describe('FlantIntegration reconciler: a cache that does not show its own status write yet', () => {
  it('writes the same status and its Events once, however often it runs on the object as it was', async () => {
    const w = setup({ crd: crd(['v2']) });
    w.fi.metadata = { ...w.fi.metadata, resourceVersion: '7' };
    const before = structuredClone(w.fi.status);
    await w.run();
    expect(w.api.statusWrites).toBe(1);
    const events = [...w.events];
    // The cache still holds resourceVersion 7 with the old status (the write's watch event is late).
    w.fi.status = before;
    await w.run();
    expect(w.api.statusWrites).toBe(1);
    expect(w.events).toEqual(events);
    // Once the object moved on (another version), the stored status is what counts again.
    w.fi.metadata = { ...w.fi.metadata, resourceVersion: '9' };
    await w.run();
    expect(w.api.statusWrites).toBe(2);
  });
});

describe('FlantIntegration reconciler: failures keep their type', () => {
  it("throws the components' failures as one aggregate holding each error, so a terminal one is not retried", async () => {
    const w = setup({ licence: 'LIC', crd: crd(['v2']), components: [defineComponent(toy({ terminal: true })), defineComponent(plain)] });
    const err = await w.run().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AggregateError);
    expect((err as AggregateError).errors[0]).toBeInstanceOf(TerminalError);
    expect((err as Error).message).toBe('components failed: toy: the toy cannot be written, ever');
    expect(isTerminal(err)).toBe(true);
    expect(w.condition('LogShippingReady')?.message).toBe('the toy cannot be written, ever (not retried until something changes)');
    // The other component went on.
    expect(w.condition('UpmeterReady')).toMatchObject({ status: 'True' });
    const retryable = setup({ licence: 'LIC', crd: crd(['v2']), components: [defineComponent(toy({ throws: true }))] });
    expect(
      isTerminal(
        await retryable.run().then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    ).toBe(false);
  });
});

describe("FlantIntegration reconciler: the cluster's global proxy", () => {
  const configuration = (proxy: string): Secret => ({
    metadata: { namespace: 'kube-system', name: 'd8-cluster-configuration' },
    data: { 'cluster-configuration.yaml': Buffer.from(`clusterDomain: cluster.local\nproxy:\n${proxy}`).toString('base64') },
  });
  const seen: Array<{ proxy: unknown; userinfo: unknown }> = [];
  const looking = defineComponent({
    ...plain,
    gather: async (ctx) => {
      seen.push({ proxy: ctx.spec.proxy, userinfo: ctx.proxyUserinfo });
      return { facts: null };
    },
  });

  it('gives the components the cluster proxy as spec.proxy when the spec names none, its credentials apart', async () => {
    seen.length = 0;
    const w = setup({ licence: 'LIC', components: [looking], clusterConfiguration: configuration('  httpsProxy: http://u:pw@proxy.corp:3128\n') });
    await w.run();
    expect(seen).toEqual([
      {
        proxy: { httpsProxy: 'http://proxy.corp:3128', noProxy: ['127.0.0.1', '169.254.169.254', 'cluster.local'] },
        userinfo: 'u:pw',
      },
    ]);
  });

  it('leaves spec.proxy as it is, and gives no credentials, when the spec names one', async () => {
    seen.length = 0;
    const w = setup({
      licence: 'LIC',
      components: [looking],
      spec: { proxy: { httpProxy: 'http://mine:8080' } },
      clusterConfiguration: configuration('  httpsProxy: http://u:pw@proxy.corp:3128\n'),
    });
    await w.run();
    expect(seen).toEqual([{ proxy: { httpProxy: 'http://mine:8080' }, userinfo: undefined }]);
  });

  it('uses no proxy when the cluster proxy is refused, and goes on', async () => {
    seen.length = 0;
    const w = setup({ licence: 'LIC', components: [looking], clusterConfiguration: configuration('  httpsProxy: ftp://proxy.corp\n') });
    await w.run();
    expect(seen).toEqual([{ proxy: undefined, userinfo: undefined }]);
    expect(w.condition('Ready')?.status).toBe('True');
  });
});
