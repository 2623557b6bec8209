/**
 * The Madison component: finds the key (configured, stored, or issued once by Connect),
 * discovers the backends, checks for revocation, applies and prunes the rendered objects,
 * and reports `MadisonRegistered` and `MadisonProxyReady`.
 */
import { ConditionType, durationToMillis, Reason, type FlantIntegrationStatus } from '../../api/index.js';
import { ConnectClient, type ConnectOptions, type MadisonKeyState, type MadisonRegistration } from '../../connect/index.js';
import { readSecretKey, type Component, type ComponentContext, type ComponentOutcome } from '../../controller/index.js';
import { errorText, isNotFound, rfc3339, type ConditionInput, type KindRef, type KubeObject } from '../../reconciler/index.js';
import { discoverBackends, type BackendResolver } from './discovery.js';
import { authKeyField, keySecret, madisonComponent, madisonObjects, madisonProxyName, proxyDeploymentName } from './render.js';
import { proxyReadiness, type Deployment } from './readiness.js';

/** What the Madison component talks to. */
export interface ConnectAPI {
  registerMadison(data: MadisonRegistration): Promise<string>;
  madisonKeyState(authKey: string): Promise<MadisonKeyState>;
}

/** Options of the Madison component. */
export interface MadisonOptions {
  readonly resolver: BackendResolver;
  /** Image of the proxy Deployments: the controller's own image. */
  readonly image: string;
  /** Builds a Connect client. @default the real {@link ConnectClient} */
  readonly connect?: (options: ConnectOptions) => ConnectAPI;
  /** How often Connect is asked whether the key was revoked. @default 300000 (5 minutes) */
  readonly revocationCheckIntervalMs?: number;
}

/** Kinds the Madison component renders. */
export const madisonKinds: readonly KindRef[] = [
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'deckhouse.io/v1alpha1', kind: 'CustomAlertmanager' },
];

type MadisonStatus = NonNullable<FlantIntegrationStatus['madison']>;

interface KeyFound {
  readonly key: string;
  readonly message: string;
}

/** The Madison component. */
export class MadisonComponent implements Component {
  readonly name = madisonComponent;
  readonly statusKey = 'madison' as const;
  readonly conditionTypes = [ConditionType.MadisonRegistered, ConditionType.MadisonProxyReady] as const;
  readonly kinds = madisonKinds;
  private lastDiscovery?: { at: number; host: string };
  private lastCheck?: { at: number; key: string; revoked: boolean };
  /** Keys issued in this process, until the cache shows the stored Secret. */
  private issued = new Map<string, string>();

  constructor(private readonly options: MadisonOptions) {}

  async reconcile(ctx: ComponentContext): Promise<ComponentOutcome> {
    const madison = ctx.fi.spec.madison;
    if (!madison.enabled) return this.disable(ctx);
    if (!ctx.licence.found) return keep(ctx, Reason.LicenceMissing, 'no licence key: Madison needs one to register');
    let key: KeyFound | ConditionInput;
    try {
      key = await this.authKey(ctx, ctx.licence.key);
    } catch (err) {
      const message = errorText(err);
      return { ...keep(ctx, Reason.RegistrationFailed, message), error: err };
    }
    if ('type' in key) return { conditions: [key, notRegistered(Reason.Progressing, 'waiting for a Madison key')], status: statusPart(ctx.status?.madison) };
    const revoked = await this.revoked(ctx, ctx.licence.key, key.key);
    const discovery = await this.discover(ctx);
    const objects = madisonObjects(ctx.fi.spec, {
      backends: discovery.backends,
      authKey: key.key,
      revoked,
      customAlertmanagerServed: Boolean(await ctx.mapper.resource('deckhouse.io/v1alpha1', 'CustomAlertmanager')),
      prometheusNamespace: (await namespaceExists(ctx, 'd8-monitoring')) ? 'd8-monitoring' : undefined,
      image: this.options.image,
      owner: ctx.owner,
    });
    await ctx.applier.applyAll(objects as KubeObject[]);
    await ctx.applier.prune(this.name, objects as KubeObject[], this.kinds, ctx.log);
    return this.outcome(ctx, key, revoked, discovery);
  }

  private async disable(ctx: ComponentContext): Promise<ComponentOutcome> {
    await ctx.applier.deleteComponent(this.name, this.kinds, ctx.log);
    this.lastDiscovery = undefined;
    const message = 'spec.madison.enabled is false';
    return {
      conditions: [
        { type: ConditionType.MadisonRegistered, status: 'True', reason: Reason.Disabled, message },
        { type: ConditionType.MadisonProxyReady, status: 'True', reason: Reason.Disabled, message },
      ],
    };
  }

  /** The key: from `authKeySecretRef`, else the stored Secret, else issued once by Connect and stored at once. */
  private async authKey(ctx: ComponentContext, licence: string): Promise<KeyFound | ConditionInput> {
    const spec = ctx.fi.spec;
    const ref = spec.madison.authKeySecretRef;
    if (ref) {
      const found = readSecretKey(ref, ctx.secrets);
      if (!found.found) return { type: ConditionType.MadisonRegistered, status: 'False', reason: found.reason, message: found.message };
      return { key: found.key, message: `Madison key read from ${found.source}` };
    }
    const storedIn = `Secret ${spec.namespace}/${madisonProxyName}`;
    const stored = readSecretKey({ namespace: spec.namespace, name: madisonProxyName, key: authKeyField }, ctx.secrets);
    if (stored.found) {
      this.issued.delete(spec.namespace);
      return { key: stored.key, message: `Madison key stored in ${storedIn}` };
    }
    const issued = this.issued.get(spec.namespace) ?? (await this.register(ctx, licence));
    this.issued.set(spec.namespace, issued);
    await ctx.applier.apply(keySecret(spec, issued, ctx.owner) as KubeObject);
    return { key: issued, message: `registered with Connect; the key is stored in ${storedIn}` };
  }

  private async register(ctx: ComponentContext, licence: string): Promise<string> {
    const spec = ctx.fi.spec;
    const key = await this.connect(ctx, licence).registerMadison({
      prometheusURL: spec.madison.prometheusURL,
      grafanaURL: spec.madison.grafanaURL,
      labels: { cluster_uuid: ctx.clusterUUID },
    });
    ctx.log.info({ connect: spec.connect.url }, 'registered with Madison through Connect');
    return key;
  }

  private connect(ctx: ComponentContext, licence: string): ConnectAPI {
    const options: ConnectOptions = { url: ctx.fi.spec.connect.url, licence, proxy: ctx.fi.spec.proxy };
    return (this.options.connect ?? ((o) => new ConnectClient(o)))(options);
  }

  /** Asks Connect every 5 minutes (and for every new key); a failed check keeps the last answer. */
  private async revoked(ctx: ComponentContext, licence: string, key: string): Promise<boolean> {
    const now = ctx.clock.now();
    const interval = this.options.revocationCheckIntervalMs ?? 300_000;
    const last = this.lastCheck;
    if (last && last.key === key && now - last.at < interval) return last.revoked;
    try {
      const revoked = (await this.connect(ctx, licence).madisonKeyState(key)) === 'revoked';
      this.lastCheck = { at: now, key, revoked };
      if (revoked) ctx.log.warn('Connect says the Madison setup is archived: alerts are no longer shipped');
      return revoked;
    } catch (err) {
      ctx.log.warn({ err: errorText(err) }, 'cannot check the Madison key with Connect; keeping the last answer');
      return last?.key === key ? last.revoked : (ctx.status?.madison?.revoked ?? false);
    }
  }

  /** Resolves the backends every discoveryInterval; a failure keeps the last known ones. */
  private async discover(ctx: ComponentContext): Promise<{ backends: string[]; failure?: string; discoveredAt?: string }> {
    const { backendsHost, discoveryInterval } = ctx.fi.spec.madison;
    const known = ctx.status?.madison?.backends ?? [];
    const now = ctx.clock.now();
    const last = this.lastDiscovery;
    if (last && last.host === backendsHost && now - last.at < durationToMillis(discoveryInterval)) {
      return { backends: known, discoveredAt: ctx.status?.madison?.lastDiscoveryTime };
    }
    try {
      const backends = await discoverBackends(this.options.resolver, backendsHost);
      this.lastDiscovery = { at: now, host: backendsHost };
      const changed = backends.join(',') !== known.join(',');
      return { backends, discoveredAt: changed ? rfc3339(now) : ctx.status?.madison?.lastDiscoveryTime };
    } catch (err) {
      const failure = `cannot resolve ${backendsHost}: ${errorText(err)}; keeping the ${known.length} last known backends`;
      ctx.log.warn({ host: backendsHost, err: errorText(err) }, 'Madison backend discovery failed');
      return { backends: known, failure, discoveredAt: ctx.status?.madison?.lastDiscoveryTime };
    }
  }

  private outcome(
    ctx: ComponentContext,
    key: KeyFound,
    revoked: boolean,
    discovery: { backends: string[]; failure?: string; discoveredAt?: string },
  ): ComponentOutcome {
    const deployments = ctx.cached('apps/v1', 'Deployment') as Deployment[];
    const wanted = discovery.backends.map(proxyDeploymentName);
    const proxy = proxyReadiness({ revoked, discoveryFailure: discovery.failure, backends: discovery.backends, wanted, deployments, namespace: ctx.fi.spec.namespace });
    const registered: ConditionInput = revoked
      ? { type: ConditionType.MadisonRegistered, status: 'False', reason: Reason.Revoked, message: 'Connect says the Madison setup is archived (revoked): alerts are not shipped' }
      : { type: ConditionType.MadisonRegistered, status: 'True', reason: Reason.Ready, message: key.message };
    const status: MadisonStatus = {
      backends: discovery.backends,
      backendCount: discovery.backends.length,
      registered: true,
      revoked,
      ...(discovery.discoveredAt ? { lastDiscoveryTime: discovery.discoveredAt } : {}),
    };
    const interval = Math.min(durationToMillis(ctx.fi.spec.madison.discoveryInterval), this.options.revocationCheckIntervalMs ?? 300_000);
    return { conditions: [registered, { type: ConditionType.MadisonProxyReady, ...proxy }], status: { madison: status }, requeueAfterMs: interval };
  }
}

/** Conditions when Madison cannot go on; the status part is kept as it was. */
function keep(ctx: ComponentContext, reason: string, message: string): ComponentOutcome {
  return {
    conditions: [
      { type: ConditionType.MadisonRegistered, status: 'False', reason, message },
      notRegistered(reason, message),
    ],
    status: statusPart(ctx.status?.madison),
  };
}

function notRegistered(reason: string, message: string): ConditionInput {
  return { type: ConditionType.MadisonProxyReady, status: 'False', reason, message };
}

function statusPart(madison: MadisonStatus | undefined): Partial<FlantIntegrationStatus> | undefined {
  return madison ? { madison } : undefined;
}

async function namespaceExists(ctx: ComponentContext, name: string): Promise<boolean> {
  try {
    await ctx.client.request('GET', `/api/v1/namespaces/${name}`);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
