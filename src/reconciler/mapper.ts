/**
 * Which resources the API server serves, from discovery: the REST path of a kind, and
 * whether a CRD's kind is served at all. Answers are cached briefly so a CRD installed
 * after start is noticed without a restart; a resource registered from a watched CRD
 * is known at once, whatever discovery last said.
 */
import type { Clock } from './clock.js';
import { isNotFound, type KubeClient, type KubeObject } from './kube.js';

/** A served resource. */
export interface ResourceInfo {
  readonly apiVersion: string;
  readonly kind: string;
  /** Plural name, as in the REST path. */
  readonly plural: string;
  readonly namespaced: boolean;
}

interface APIResourceList {
  resources: Array<{ name: string; kind: string; namespaced: boolean }>;
}

/** Base path of a group/version: `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** REST path of a collection (`namespace` given for namespaced resources) or one object. */
export function resourcePath(info: ResourceInfo, namespace?: string, name?: string): string {
  const ns = info.namespaced && namespace ? `/namespaces/${namespace}` : '';
  return `${groupVersionPath(info.apiVersion)}${ns}/${info.plural}${name ? `/${name}` : ''}`;
}

/** How long an answer that a group version is not served is trusted. */
export const unservedTtlMs = 30_000;
/** How long a served group version's resources are trusted. */
export const defaultServedTtlMs = 3_600_000;

/** Finds resources through discovery. */
export class RESTMapper {
  private cache = new Map<string, { at: number; list: APIResourceList | undefined }>();
  private registered = new Map<string, ResourceInfo>();

  /**
   * @param ttlMs how long an answer that a group version is not served is trusted. @default {@link unservedTtlMs}
   * @param servedTtlMs how long a served group version's resources are trusted: built-in kinds
   *   change only with the server's version (CRD kinds come from their CRDs, see {@link register}),
   *   and asking every 30 s made discovery the controller's most frequent request at rest.
   *   @default {@link defaultServedTtlMs}
   */
  constructor(
    private readonly client: KubeClient,
    private readonly clock: Clock,
    private readonly ttlMs = unservedTtlMs,
    private readonly servedTtlMs = defaultServedTtlMs,
  ) {}

  /** The resource of `apiVersion`/`kind`, or undefined when the server does not serve it. */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const known = this.registered.get(`${apiVersion}/${kind}`);
    if (known) return known;
    const list = await this.discover(apiVersion);
    const found = list?.resources.find((r) => r.kind === kind && !r.name.includes('/'));
    return found ? { apiVersion, kind, plural: found.name, namespaced: found.namespaced } : undefined;
  }

  /** The resource of an object; throws when its kind is not served. */
  async resourceOf(obj: KubeObject): Promise<ResourceInfo> {
    const info = await this.resource(obj.apiVersion ?? '', obj.kind ?? '');
    if (!info) throw new Error(`${obj.kind} (${obj.apiVersion}) is not served by the API server: is its CRD installed?`);
    return info;
  }

  /** The first of `apiVersions` that serves `kind`. */
  async firstServed(apiVersions: readonly string[], kind: string): Promise<ResourceInfo | undefined> {
    for (const apiVersion of apiVersions) {
      const info = await this.resource(apiVersion, kind);
      if (info) return info;
    }
    return undefined;
  }

  /**
   * Sets what the resources of one kind are, e.g. from its CRD: `infos` are the versions
   * served now (an empty list: none). Discovery answers for the kind are forgotten.
   */
  register(kind: string, group: string, infos: readonly ResourceInfo[]): void {
    for (const [key, info] of this.registered) if (info.kind === kind && info.apiVersion.startsWith(`${group}/`)) this.registered.delete(key);
    for (const info of infos) this.registered.set(`${info.apiVersion}/${info.kind}`, info);
    for (const apiVersion of this.cache.keys()) if (apiVersion.startsWith(`${group}/`)) this.cache.delete(apiVersion);
  }

  /** Forgets every cached answer. */
  invalidate(): void {
    this.cache.clear();
  }

  private async discover(apiVersion: string): Promise<APIResourceList | undefined> {
    const cached = this.cache.get(apiVersion);
    if (cached && this.clock.now() - cached.at < (cached.list ? this.servedTtlMs : this.ttlMs)) return cached.list;
    let list: APIResourceList | undefined;
    try {
      list = await this.client.request<APIResourceList>('GET', groupVersionPath(apiVersion));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.cache.set(apiVersion, { at: this.clock.now(), list });
    return list;
  }
}
