/**
 * The pricing exporter (`flant-integration pricing`): informers on Nodes, the
 * FlantIntegration, Deckhouse's Secrets and workloads (`heritage=deckhouse`), and (while their CRDs are served)
 * NodeGroups and IngressNginxControllers, feeding the incremental state; Prometheus queries
 * every 20 minutes and at start; `/metrics`, `/healthz` and `/readyz` on one listener.
 */
import type { Logger } from 'pino';
import { flantIntegrationSpecSchema, group, plural, prometheusCASecret, version, type FlantIntegrationSpec } from '../api/index.js';
import {
  errorText,
  Informer,
  probeRoutes,
  serve,
  type Clock,
  type InformerEvent,
  type KubeClient,
  type KubeObject,
  type Listener,
} from '../reconciler/index.js';
import { configuredType, deckhouseObjects, deckhouseVersion, discoveryFacts, ingressController, providerFacts, type SecretObject } from './facts.js';
import { pricingRegistry, type ClusterFacts, type ExporterView } from './metrics.js';
import { instantQuery, QueryResults } from './prometheus.js';
import { nodeFields, PricingState, type NodeGroupObject, type NodeObject } from './state.js';
import { CRDWatchedInformer } from './watched.js';
import {
  deckhouseControllers,
  deckhouseWorkloadSelector,
  ingressPodCounts,
  workloadKinds,
  type DeckhouseController,
  type IngressPodCount,
  type Workload,
  type WorkloadKind,
} from './workloads.js';

/** Default of {@link ExporterOptions.queryIntervalMs}: 20 minutes. */
export const defaultQueryIntervalMs = 20 * 60_000;

/** What the exporter needs from its process. */
export interface ExporterOptions {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly clock: Clock;
  /** `host:port` of `/metrics`, `/healthz`, `/readyz`. */
  readonly listen: string;
  /** `host:port` of `/healthz` and `/readyz` alone, for the kubelet's probes (it cannot reach 127.0.0.1). Empty: none. */
  readonly probeListen?: string;
  /** How often Prometheus is queried. @default {@link defaultQueryIntervalMs} */
  readonly queryIntervalMs?: number;
  /** Reads the bearer token for Prometheus (the ServiceAccount token), for every request. */
  readonly prometheusToken: () => Promise<string | undefined>;
  /** The CA bundle of Prometheus when the spec names none (the cluster CA). */
  readonly defaultCA: () => Promise<string | undefined>;
}

const flantIntegrationsPath = `/apis/${group}/${version}/${plural}`;

/** The running exporter. */
export class Exporter implements ExporterView {
  readonly state = new PricingState();
  readonly queries = new QueryResults();
  readonly cluster: ClusterFacts = {
    releaseChannel: '',
    bundle: '',
    cloudProvider: 'none',
    cloudLayout: '',
    controlPlaneVersion: '',
    deckhouseVersion: '',
    terraformInUse: false,
  };
  private readonly informers: Array<Informer<KubeObject>> = [];
  private readonly fi: Informer;
  private readonly nodeGroups: CRDWatchedInformer<NodeGroupObject & KubeObject>;
  private readonly ingress: CRDWatchedInformer<KubeObject>;
  private readonly secrets = new Map<string, Informer<SecretObject>>();
  /** Deckhouse's Deployments, DaemonSets and StatefulSets, by kind (`heritage=deckhouse` with a `module`). */
  private readonly workloads: ReadonlyArray<{ kind: WorkloadKind; informer: Informer }>;

  constructor(private readonly options: ExporterOptions) {
    const { client, clock, log } = options;
    const nodes = this.informer<NodeObject & KubeObject>('/api/v1/nodes', undefined, undefined, nodeFields);
    nodes.on((e) => (e.type === 'delete' ? this.state.deleteNode(e.object.metadata?.name ?? '') : this.state.upsertNode(e.object)));
    this.fi = this.informer(flantIntegrationsPath);
    for (const [key, ref] of Object.entries(deckhouseObjects)) {
      if (key === 'deployment') continue;
      const secret = this.informer<SecretObject>(`/api/v1/namespaces/${ref.namespace}/secrets`, `metadata.name=${ref.name}`);
      secret.on(() => this.readFacts());
      this.secrets.set(key, secret);
    }
    this.workloads = workloadKinds.map((kind) => ({
      kind,
      informer: this.informer(`/apis/apps/v1/${kind.toLowerCase()}s`, undefined, deckhouseWorkloadSelector),
    }));
    const { namespace, name } = deckhouseObjects.deployment;
    const deployment = this.informer(`/apis/apps/v1/namespaces/${namespace}/deployments`, `metadata.name=${name}`);
    deployment.on(() => (this.cluster.deckhouseVersion = deckhouseVersion(deployment.list()[0])));
    this.nodeGroups = new CRDWatchedInformer(client, { group: 'deckhouse.io', plural: 'nodegroups', versions: ['v1'] }, clock, log, {
      onEvent: (e: InformerEvent<NodeGroupObject & KubeObject>) =>
        e.type === 'delete' ? this.state.deleteGroup(e.object.metadata?.name ?? '') : this.state.upsertGroup(e.object),
      onGone: () => this.state.clearGroups(),
    });
    this.ingress = new CRDWatchedInformer(
      client,
      { group: 'deckhouse.io', plural: 'ingressnginxcontrollers', versions: ['v1', 'v1alpha1'] },
      clock,
      log,
      { onEvent: () => {}, onGone: () => {} },
    );
  }

  spec(): FlantIntegrationSpec | undefined {
    const parsed = flantIntegrationSpecSchema.safeParse(this.fi.list()[0]?.spec ?? undefined);
    return this.fi.list().length > 0 && parsed.success ? parsed.data : undefined;
  }

  ingressControllers() {
    return this.ingress.isServed() ? this.ingress.list().map(ingressController) : undefined;
  }

  deckhouseControllers(): DeckhouseController[] {
    return deckhouseControllers(this.cachedWorkloads());
  }

  ingressPods(): IngressPodCount[] {
    return ingressPodCounts(this.ingress.isServed() ? this.ingress.list() : [], this.cachedWorkloads());
  }

  private cachedWorkloads(): Workload[] {
    return this.workloads.flatMap(({ kind, informer }) => informer.list().map((object) => ({ kind, object })));
  }

  /** Why it is not ready, or undefined once every informer has listed. */
  notReady(): string | undefined {
    const waiting = [
      ...this.informers.filter((i) => !i.hasSynced()).map((i) => i.describe()),
      ...(this.nodeGroups.hasSynced() ? [] : ['nodegroups']),
    ];
    return waiting.length > 0 ? `waiting for the first list of ${waiting.join(', ')}` : undefined;
  }

  /** Runs until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const registry = pricingRegistry(this);
    const probes = probeRoutes(() => this.notReady());
    const listener: Listener | undefined = await serve(this.options.listen, {
      ...probes,
      '/metrics': async () => ({ status: 200, body: await registry.metrics(), type: registry.contentType }),
    });
    const probeListener = await serve(this.options.probeListen ?? '', probes);
    this.options.log.info({ port: listener?.port, probePort: probeListener?.port }, 'serving the pricing metrics');
    const runs = [...this.informers, this.nodeGroups.crd, this.ingress.crd].map((i) => i.run(signal));
    try {
      await this.controlPlaneVersion(signal);
      await this.queryLoop(signal);
    } finally {
      this.nodeGroups.stop();
      this.ingress.stop();
      await Promise.all(runs);
      await listener?.close();
      await probeListener?.close();
    }
  }

  private informer<T extends KubeObject>(
    path: string,
    fieldSelector?: string,
    labelSelector?: string,
    transform?: (object: KubeObject) => KubeObject,
  ): Informer<T> {
    const informer = new Informer<T>(
      this.options.client,
      { path, fieldSelector, labelSelector, transform },
      this.options.clock,
      this.options.log.child({ component: 'informer' }),
    );
    this.informers.push(informer as unknown as Informer<KubeObject>);
    return informer;
  }

  private readFacts(): void {
    const get = (key: string) => this.secrets.get(key)?.list()[0];
    Object.assign(this.cluster, discoveryFacts(get('discovery')), providerFacts(get('providerConfiguration')), {
      configuredType: configuredType(get('clusterConfiguration')),
    });
  }

  private async controlPlaneVersion(signal: AbortSignal): Promise<void> {
    try {
      const v = await this.options.client.request<{ major?: string; minor?: string }>('GET', '/version', { signal });
      this.cluster.controlPlaneVersion = `${v.major ?? ''}.${(v.minor ?? '').replace(/\+$/, '')}`;
    } catch (err) {
      this.options.log.warn({ err: errorText(err) }, 'cannot read the API server version');
    }
  }

  /** Queries Prometheus at start (once the FlantIntegration is read) and every interval. */
  private async queryLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !this.fi.hasSynced()) await this.options.clock.sleep(100, signal);
    while (!signal.aborted) {
      await this.refreshQueries();
      await this.options.clock.sleep(this.options.queryIntervalMs ?? defaultQueryIntervalMs, signal);
    }
  }

  private async refreshQueries(): Promise<void> {
    const url = this.spec()?.prometheus.url ?? flantIntegrationSpecSchema.parse({}).prometheus.url;
    const ca = await this.prometheusCA();
    const failures = await this.queries.refresh((query) => instantQuery({ url, token: this.options.prometheusToken, ca }, query));
    if (failures.length > 0)
      this.options.log.warn(
        { prometheus: url, failed: failures.length, first: failures[0]?.error },
        'Prometheus queries failed; keeping their last answers',
      );
  }

  /** With `spec.prometheus.caSecretRef`: the controller's checked copy of that CA, in this namespace; else the cluster CA. */
  private async prometheusCA(): Promise<string | undefined> {
    const spec = this.spec();
    if (!spec?.prometheus.caSecretRef) return this.options.defaultCA();
    const where = `${spec.namespace}/${prometheusCASecret.name}`;
    try {
      const secret = await this.options.client.request<SecretObject>(
        'GET',
        `/api/v1/namespaces/${spec.namespace}/secrets/${prometheusCASecret.name}`,
      );
      const value = secret.data?.[prometheusCASecret.key];
      if (value) return Buffer.from(value, 'base64').toString('utf8');
      this.options.log.warn({ secret: where, key: prometheusCASecret.key }, 'the Prometheus CA Secret has no such key; using the cluster CA');
    } catch (err) {
      this.options.log.warn({ secret: where, err: errorText(err) }, 'cannot read the Prometheus CA Secret; using the cluster CA');
    }
    return this.options.defaultCA();
  }
}
