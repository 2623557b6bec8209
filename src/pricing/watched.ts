/**
 * An informer of a custom resource that exists only while its CRD is served: the CRD is
 * watched by name; when a version it can read is served the resource's informer starts,
 * when the CRD goes the informer stops and `onGone` clears what it fed. A CRD that never
 * comes never crashes anything.
 */
import type { Logger } from 'pino';
import { Informer, type Clock, type InformerEvent, type KubeClient, type KubeObject } from '../reconciler/index.js';

/** The resource to watch through its CRD. */
export interface WatchedResource {
  readonly group: string;
  readonly plural: string;
  /** Versions it can read, best first. */
  readonly versions: readonly string[];
}

interface CRD extends KubeObject {
  spec?: { versions?: Array<{ name: string; served?: boolean }> };
  status?: { conditions?: Array<{ type: string; status: string }> };
}

/** The best version of `resource` that `crd` serves, once it is Established. */
export function servedVersion(resource: WatchedResource, crd: CRD | undefined): string | undefined {
  if (!crd?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return undefined;
  const served = (crd.spec?.versions ?? []).filter((v) => v.served !== false).map((v) => v.name);
  return resource.versions.find((v) => served.includes(v));
}

/** Follows a CRD and runs the informer of its resource while it is served. */
export class CRDWatchedInformer<T extends KubeObject> {
  /** The informer of the CRD itself (run it with the others). */
  readonly crd: Informer<CRD>;
  private current?: { version: string; informer: Informer<T>; stop: AbortController };

  constructor(
    private readonly client: KubeClient,
    private readonly resource: WatchedResource,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly handlers: { onEvent: (event: InformerEvent<T>) => void; onGone: () => void },
  ) {
    const name = `${resource.plural}.${resource.group}`;
    this.crd = new Informer<CRD>(
      client,
      { path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', fieldSelector: `metadata.name=${name}` },
      clock,
      log,
    );
    this.crd.on(() => this.follow());
  }

  /** True when the resource's CRD is not served, or its informer has listed. */
  hasSynced(): boolean {
    return this.crd.hasSynced() && (this.current?.informer.hasSynced() ?? true);
  }

  /** True while the CRD serves a version it can read. */
  isServed(): boolean {
    return this.current !== undefined;
  }

  /** Every cached object (none while the CRD is not served). */
  list(): T[] {
    return this.current?.informer.list() ?? [];
  }

  /** Stops the resource's informer. */
  stop(): void {
    this.current?.stop.abort();
    this.current = undefined;
  }

  private follow(): void {
    const version = servedVersion(this.resource, this.crd.list()[0]);
    if (version === this.current?.version) return;
    if (this.current) {
      this.stop();
      this.handlers.onGone();
    }
    if (!version) return;
    const informer = new Informer<T>(this.client, { path: `/apis/${this.resource.group}/${version}/${this.resource.plural}` }, this.clock, this.log);
    informer.on(this.handlers.onEvent);
    const stop = new AbortController();
    this.current = { version, informer, stop };
    this.log.info({ resource: `${this.resource.plural}.${this.resource.group}/${version}` }, 'CRD served: watching its objects');
    void informer.run(stop.signal);
  }
}
