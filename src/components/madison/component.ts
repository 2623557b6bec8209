/**
 * The Madison component: finds the key (configured, stored, or issued once by Connect),
 * checks it for revocation, discovers the backends, and hands the spine the facts its pure
 * render and readiness work from.
 */
import { ConditionType, durationToMillis, Reason, type FlantIntegrationSpec, type FlantIntegrationStatus } from '../../api/index.js';
import { ConnectClient, displayURL, type ConnectOptions, type MadisonKeyState, type MadisonRegistration } from '../../connect/index.js';
import { readSecretKey, type Component, type GatherContext, type Gathered, type OfflineFacts } from '../../flantintegration/index.js';
import { errorText, NotOwnedError, rfc3339, type KindRef, type KubeObject } from '../../reconciler/index.js';
import { placementOf, placementWatches } from '../placement.js';
import { resolveEgress, type Egress } from '../egress.js';
import { discoverBackends, sortByteWise, type BackendResolver } from './discovery.js';
import { madisonOfflineSchema } from './offline.js';
import { madisonDeployments, madisonReadiness } from './readiness.js';
import { authKeyField, keySecret, madisonComponent, madisonObjects, madisonProxyName, signedKeySecret, type MadisonFacts } from './render.js';

/** What the Madison component talks to. */
export interface ConnectAPI {
  registerMadison(data: MadisonRegistration): Promise<string>;
  madisonKeyState(authKey: string): Promise<MadisonKeyState>;
}

/** Default of {@link MadisonOptions.revocationCheckIntervalMs}: 5 minutes. */
export const defaultRevocationCheckIntervalMs = 300_000;

/** Options of the Madison component. */
export interface MadisonOptions {
  readonly resolver: BackendResolver;
  /** Image of the proxy Deployments: the controller's own image. */
  readonly image: string;
  /** Builds a Connect client. @default the real {@link ConnectClient} */
  readonly connect?: (options: ConnectOptions) => ConnectAPI;
  /** How often Connect is asked whether the key was revoked. @default {@link defaultRevocationCheckIntervalMs} */
  readonly revocationCheckIntervalMs?: number;
  /** Re-resolve the backends this often instead of `spec.madison.discoveryInterval` (tests, urgent re-resolution). @default the spec's */
  readonly discoveryIntervalMs?: number;
  /** Render a NetworkPolicy admitting connections to the proxies from this namespace only (the cluster's Prometheus). @default none */
  readonly networkPolicyFrom?: string;
}

/** Built-in kinds the Madison component renders. */
export const madisonKinds: readonly KindRef[] = [
  { apiVersion: 'v1', kind: 'Secret' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
];

/** The Prometheus namespace of a Deckhouse cluster, where the alert relabeling goes. */
const deckhousePrometheusNamespace = 'd8-monitoring';

interface Discovery {
  readonly backends: string[];
  readonly failure?: string;
  readonly discoveredAt?: string;
  /** Said beside the ready message, e.g. that DNS gave more addresses than are used. */
  readonly note?: string;
}

/** The Madison component. */
export class MadisonComponent implements Component<MadisonFacts> {
  readonly name = madisonComponent;
  readonly enabledField = 'spec.madison.enabled';
  readonly needsLicence = true;
  readonly statusKey = 'madison' as const;
  readonly kinds = madisonKinds;
  /** The alert relabel Secret goes to Prometheus' namespace. */
  readonly writesSecretsIn = [deckhousePrometheusNamespace];
  readonly crds = [
    { group: 'deckhouse.io', kind: 'CustomAlertmanager', plural: 'customalertmanagers', versions: ['v1alpha1'], optional: true },
    { group: 'monitoring.coreos.com', kind: 'PodMonitor', plural: 'podmonitors', versions: ['v1'], optional: true, namespaced: true },
  ];
  readonly informers = [madisonDeployments.watch, ...placementWatches];
  readonly readiness = madisonReadiness;
  /** The last lookup, kept in memory so a re-created FlantIntegration (empty status) does not forget the backends. */
  private lastDiscovery?: { at: number; host: string; backends: string[]; discoveredAt: string; note?: string };
  private lastCheck?: { at: number; key: string; revoked: boolean };
  /** Keys issued in this process, until the cache shows the stored Secret. */
  private issued = new Map<string, string>();

  constructor(private readonly options: MadisonOptions) {}

  enabled(spec: FlantIntegrationSpec): boolean {
    return spec.madison.enabled;
  }

  secretRefs(spec: FlantIntegrationSpec) {
    const stored = { namespace: spec.namespace, name: madisonProxyName };
    return spec.madison.authKeySecretRef ? [spec.madison.authKeySecretRef, stored] : [stored];
  }

  async gather(ctx: GatherContext): Promise<Gathered<MadisonFacts>> {
    const licence = ctx.licenceKey ?? '';
    const egress = resolveEgress(ctx);
    if (!('settings' in egress)) {
      return {
        blocked: [
          { type: ConditionType.MadisonRegistered, status: 'False', ...egress },
          { type: ConditionType.MadisonProxyReady, status: 'False', ...egress },
        ],
      };
    }
    let key: { key: string; source: string } | { reason: string; message: string };
    try {
      key = await this.authKey(ctx, licence, egress);
    } catch (err) {
      // A Secret of that name that is not ours: the reconciler says Conflict, naming it.
      if (err instanceof NotOwnedError) throw err;
      return {
        blocked: [{ type: ConditionType.MadisonRegistered, status: 'False', reason: Reason.RegistrationFailed, message: errorText(err) }],
        error: err,
      };
    }
    if (!('key' in key)) {
      return {
        blocked: [
          { type: ConditionType.MadisonRegistered, status: 'False', ...key },
          { type: ConditionType.MadisonProxyReady, status: 'False', reason: Reason.Progressing, message: 'waiting for a Madison key' },
        ],
      };
    }
    const revoked = await this.revoked(ctx, licence, key.key, egress);
    const discovery = await this.discover(ctx);
    const interval = Math.min(this.discoveryInterval(ctx.spec), this.revocationInterval());
    const facts: MadisonFacts = {
      backends: discovery.backends,
      authKey: key.key,
      licenceKey: licence,
      keySource: key.source,
      revoked,
      customAlertmanagerServed: ctx.served('CustomAlertmanager') !== undefined,
      prometheusNamespace: (await this.relabelTarget(ctx)) ? deckhousePrometheusNamespace : undefined,
      image: this.options.image,
      podMonitorServed: ctx.served('PodMonitor') !== undefined,
      placement: placementOf(ctx.cache),
      networkPolicyFrom: this.options.networkPolicyFrom,
      discoveryFailure: discovery.failure,
      discoveryNote: discovery.note,
      lastDiscoveryTime: discovery.discoveredAt,
      ...(egress.userinfo !== undefined ? { egressUserinfo: egress.userinfo, egressSecrets: egress.secrets } : {}),
    };
    return { facts, requeueAfterMs: interval };
  }

  offlineFacts(offline: OfflineFacts): MadisonFacts {
    const section = madisonOfflineSchema.parse(offline.section ?? {});
    return {
      backends: sortByteWise(section.backends),
      authKey: section.authKey,
      licenceKey: offline.licenceKey,
      keySource: 'given in the facts file',
      revoked: section.revoked,
      customAlertmanagerServed: offline.served('CustomAlertmanager') !== undefined,
      prometheusNamespace: section.prometheusNamespace,
      image: offline.image,
      podMonitorServed: offline.served('PodMonitor') !== undefined,
      networkPolicyFrom: this.options.networkPolicyFrom,
    };
  }

  /** The stored key Secret survives a lost licence: a new licence goes on with the same key, with no second registration. */
  keptWithoutLicence(spec: FlantIntegrationSpec) {
    return [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: madisonProxyName, namespace: spec.namespace } }];
  }

  secretValues(facts: MadisonFacts): string[] {
    return [facts.authKey, ...(facts.egressSecrets ?? [])];
  }

  render(spec: FlantIntegrationSpec, facts: MadisonFacts) {
    return madisonObjects(spec, facts);
  }

  status(facts: MadisonFacts) {
    return {
      madison: {
        backends: [...facts.backends],
        backendCount: facts.backends.length,
        proxies: facts.backends.length,
        registered: true,
        revoked: facts.revoked ?? false,
        ...(facts.lastDiscoveryTime ? { lastDiscoveryTime: facts.lastDiscoveryTime } : {}),
      },
    };
  }

  /** Its proxies were removed (no licence): none run; the backends found are kept for when it comes back. */
  statusWithoutObjects(kept: Partial<FlantIntegrationStatus>) {
    return kept.madison ? { madison: { ...kept.madison, proxies: 0 } } : kept;
  }

  /**
   * Whether the alert relabel Secret goes to Prometheus main's namespace: it exists, and the
   * controller may write Secrets there (the chart's `deckhouse.enabled`). Installed without, a
   * namespace of that name is left alone instead of failing every reconcile.
   */
  private async relabelTarget(ctx: GatherContext): Promise<boolean> {
    if (!(await ctx.cluster.namespaceExists(deckhousePrometheusNamespace))) return false;
    if (await ctx.cluster.mayCreate(deckhousePrometheusNamespace, 'secrets')) return true;
    ctx.log.debug(
      { namespace: deckhousePrometheusNamespace },
      "Prometheus main's namespace exists but the controller may not write Secrets there: no alert relabel Secret",
    );
    return false;
  }

  /** The key: from `authKeySecretRef`, else the stored Secret, else issued once by Connect and stored at once. */
  private async authKey(
    ctx: GatherContext,
    licence: string,
    egress: Egress,
  ): Promise<{ key: string; source: string } | { reason: string; message: string }> {
    const spec = ctx.spec;
    const ref = spec.madison.authKeySecretRef;
    if (ref) {
      const found = readSecretKey(ref, ctx.secrets, ctx.secretNamespaces, ctx.forbiddenSecretNamespaces);
      return found.found ? { key: found.key, source: `Madison key read from ${found.source}` } : { reason: found.reason, message: found.message };
    }
    const storedIn = `Secret ${spec.namespace}/${madisonProxyName}`;
    const stored = readSecretKey(
      { namespace: spec.namespace, name: madisonProxyName, key: authKeyField },
      ctx.secrets,
      ctx.secretNamespaces,
      ctx.forbiddenSecretNamespaces,
    );
    if (stored.found && ours(ctx.secrets(spec.namespace, madisonProxyName), licence, stored.key)) {
      this.issued.delete(spec.namespace);
      return { key: stored.key, source: `Madison key stored in ${storedIn}` };
    }
    if (stored.found) ctx.log.warn({ object: storedIn }, 'the stored Madison key Secret has neither our owner reference nor our signature: not used');
    // spec.namespace changed: the key stored in the former namespace moves with it (that copy is pruned), no second registration.
    const former = ctx.formerNamespace;
    const moved = former ? readSecretKey({ namespace: former, name: madisonProxyName, key: authKeyField }, ctx.formerSecrets, [former]) : undefined;
    if (moved?.found && ours(ctx.formerSecrets(former ?? '', madisonProxyName), licence, moved.key)) {
      await ctx.cluster.applyNow(keySecret(spec, moved.key, licence));
      return { key: moved.key, source: `Madison key moved from Secret ${former ?? ''}/${madisonProxyName} to ${storedIn}` };
    }
    const issued = this.issued.get(spec.namespace) ?? (await this.register(ctx, licence, egress));
    this.issued.set(spec.namespace, issued);
    await ctx.cluster.applyNow(keySecret(spec, issued, licence));
    return { key: issued, source: `registered with Connect; the key is stored in ${storedIn}` };
  }

  private async register(ctx: GatherContext, licence: string, egress: Egress): Promise<string> {
    const spec = ctx.spec;
    const key = await this.connect(spec, licence, egress, ctx.signal).registerMadison({
      prometheusURL: spec.madison.prometheusURL,
      grafanaURL: spec.madison.grafanaURL,
      labels: { cluster_uuid: ctx.clusterUUID },
    });
    ctx.log.info({ connect: displayURL(spec.connect.url) }, 'registered with Madison through Connect');
    return key;
  }

  private connect(spec: FlantIntegrationSpec, licence: string, egress: Egress, signal: AbortSignal): ConnectAPI {
    const options: ConnectOptions = { url: spec.connect.url, licence, proxy: egress.settings, signal };
    return (this.options.connect ?? ((o) => new ConnectClient(o)))(options);
  }

  private discoveryInterval(spec: FlantIntegrationSpec): number {
    return this.options.discoveryIntervalMs ?? durationToMillis(spec.madison.discoveryInterval);
  }

  private revocationInterval(): number {
    return this.options.revocationCheckIntervalMs ?? defaultRevocationCheckIntervalMs;
  }

  /** Asks Connect every revocation interval (and for every new key); a failed check keeps the last answer. */
  private async revoked(ctx: GatherContext, licence: string, key: string, egress: Egress): Promise<boolean> {
    const now = ctx.clock.now();
    const last = this.lastCheck;
    if (last && last.key === key && now - last.at < this.revocationInterval()) return last.revoked;
    try {
      const revoked = (await this.connect(ctx.spec, licence, egress, ctx.signal).madisonKeyState(key)) === 'revoked';
      this.lastCheck = { at: now, key, revoked };
      if (revoked) ctx.log.warn('Connect says the Madison setup is archived: alerts are no longer shipped');
      return revoked;
    } catch (err) {
      ctx.log.warn({ err: errorText(err) }, 'cannot check the Madison key with Connect; keeping the last answer');
      return last?.key === key ? last.revoked : (ctx.status?.madison?.revoked ?? false);
    }
  }

  /**
   * Resolves the backends every discoveryInterval; a failure keeps the last known ones. What
   * was found lives in this process, keyed by host: the stored status is read only when the
   * process has found nothing yet (after a restart).
   */
  private async discover(ctx: GatherContext): Promise<Discovery> {
    const { backendsHost } = ctx.spec.madison;
    const now = ctx.clock.now();
    const last = this.lastDiscovery?.host === backendsHost ? this.lastDiscovery : undefined;
    if (last && now - last.at < this.discoveryInterval(ctx.spec))
      return { backends: last.backends, discoveredAt: last.discoveredAt, note: last.note };
    const known = last?.backends ?? sortByteWise(ctx.status?.madison?.backends ?? []);
    const knownAt = last?.discoveredAt ?? ctx.status?.madison?.lastDiscoveryTime;
    try {
      const { backends, dropped } = await discoverBackends(this.options.resolver, backendsHost, ctx.signal);
      const discoveredAt = backends.join(',') === known.join(',') && knownAt ? knownAt : rfc3339(now);
      const note =
        dropped > 0
          ? `${backendsHost} has ${backends.length + dropped} addresses; only the first ${backends.length} (byte-wise) are used`
          : undefined;
      if (note) ctx.log.warn({ host: backendsHost, dropped }, 'more Madison backends than are used');
      this.lastDiscovery = { at: now, host: backendsHost, backends, discoveredAt, note };
      return { backends, discoveredAt, note };
    } catch (err) {
      ctx.log.warn({ host: backendsHost, err: errorText(err) }, 'Madison backend discovery failed');
      return {
        backends: known,
        failure: `cannot resolve ${backendsHost}: ${errorText(err)}; keeping the ${known.length} last known backends`,
        discoveredAt: knownAt,
      };
    }
  }
}

/**
 * The stored key Secret is ours: owned by a FlantIntegration (it is applied with one), or,
 * released when one was deleted, signed with the licence. Our labels alone prove nothing:
 * anybody who may create a Secret there can copy them.
 */
function ours(secret: KubeObject | undefined, licence: string, authKey: string): boolean {
  const owned = (secret?.metadata?.ownerReferences ?? []).some((r) => r.kind === 'FlantIntegration');
  return owned || signedKeySecret(secret, licence, authKey);
}
