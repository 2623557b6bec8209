/**
 * Server-side apply and prune. Objects are applied with one field manager (forcing
 * conflicts only over fields that manager owns by design), and a component's objects
 * that it no longer renders are deleted, found by ownership labels. An object without
 * those labels is never deleted.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { objectKey } from './informer.js';
import { isConflict, isForbidden, isNotFound, KubeApiError, type KubeClient, type KubeObject } from './kube.js';
import { resourcePath, type RESTMapper } from './mapper.js';

/** Labels that mark what a controller owns. */
export interface Ownership {
  /** Label key and value set on every owned object, e.g. `app.kubernetes.io/managed-by`. */
  readonly managedBy: { readonly key: string; readonly value: string };
  /** Label key whose value names the component that rendered the object. */
  readonly componentKey: string;
  /**
   * Annotation that makes a released object (our labels, no owner) ours to adopt again: the
   * desired object must carry the same non-empty value. Without it, nothing released is adopted.
   */
  readonly signatureKey?: string;
}

/** A kind a component may render, so prune knows where to look. */
export interface KindRef {
  readonly apiVersion: string;
  readonly kind: string;
  /**
   * Look for owned objects of a namespaced kind in these namespaces only, not cluster-wide (the
   * controller writes them only through Roles there); ignored for a cluster-scoped kind. A
   * namespace it may not list holds nothing it wrote. @default every namespace
   */
  readonly namespaces?: readonly string[];
}

/** A synced cache of one kind (in one namespace, or cluster-wide), holding every object of ours it covers. */
export interface CachedKind {
  /** The object with key `namespace/name` (`name` when cluster-scoped). */
  get(key: string): KubeObject | undefined;
  /** Every cached object; it may hold other namespaces' objects and objects not ours. */
  list(): readonly KubeObject[];
}

/**
 * Where the {@link Applier} finds what it wrote without asking the API server: the watches of
 * our own objects. A cache that lags is safe: an object it shows as we left it is skipped only
 * when its resourceVersion is the one our own apply returned, an object it lacks is asked for,
 * a delete carries the resourceVersion seen, and each change the cache has yet to show queues
 * a reconcile when it arrives.
 */
export interface OwnedCache {
  /** The synced cache of `apiVersion` `kind` objects of `component` in `namespace` (undefined: cluster-wide), or undefined: ask the server. */
  of(apiVersion: string, kind: string, namespace: string | undefined, component: string): CachedKind | undefined;
}

/** An object of the same name exists and is not ours: it is left untouched. */
export class NotOwnedError extends Error {
  constructor(readonly object: string) {
    super(
      `${object} exists and was not made by this controller (no ownership label and owner reference, nor the signature of what it ` +
        `releases): it is left untouched; delete or rename it to let the controller create its own`,
    );
    this.name = 'NotOwnedError';
  }
}

/** Applies and prunes objects with server-side apply. */
export class Applier {
  /** What was last applied at each path (a digest of the body) and the resourceVersion it left. */
  private readonly lastApplied = new Map<string, { digest: string; resourceVersion: string }>();

  constructor(
    private readonly client: KubeClient,
    private readonly mapper: RESTMapper,
    private readonly ownership: Ownership,
    /** Field manager of every apply. */
    private readonly fieldManager: string,
    /** The caches of our own objects; without one, every check asks the server. @default none */
    private readonly cache?: OwnedCache,
  ) {}

  /**
   * Server-side applies `obj` and returns what the server stored. A field the server's
   * schema does not know is an error (fieldValidation=Strict), never silently dropped.
   * When `obj` names an owner, an existing object of that name must carry the ownership
   * label and an owner reference with that owner's UID, or nothing is written
   * ({@link NotOwnedError}): nobody else's object is ever adopted. The one exception is an
   * object this controller released ({@link retire}): our labels, no owner at all, and the
   * signature annotation the desired object carries (see {@link Ownership.signatureKey}).
   */
  /** How many objects of ours were replaced because an edit by hand made them unmergeable; for tests and logs. */
  replaced = 0;

  async apply(obj: KubeObject, signal?: AbortSignal): Promise<KubeObject> {
    const info = await this.mapper.resourceOf(obj);
    const path = resourcePath(info, obj.metadata?.namespace, obj.metadata?.name);
    const ownerUID = obj.metadata?.ownerReferences?.[0]?.uid;
    const body = withoutStatus(obj);
    const digest = createHash('sha256').update(JSON.stringify(body)).digest('base64');
    const last = this.lastApplied.get(path);
    const component = obj.metadata?.labels?.[this.ownership.componentKey] ?? '';
    // The cache shows the object as our last apply left it: nothing to write and nothing to ask.
    const cached = last?.digest === digest ? this.cache?.of(obj.apiVersion ?? '', obj.kind ?? '', obj.metadata?.namespace, component) : undefined;
    const seen = cached?.get(objectKey(obj));
    const unchanged = seen !== undefined && seen.metadata?.resourceVersion === last?.resourceVersion;
    if (seen && unchanged && (!ownerUID || this.owns({ ...seen, kind: obj.kind }, component, ownerUID))) return seen;
    const existing = ownerUID ? await this.checkOwned(obj, path, ownerUID, signal) : last ? await this.get(path, signal) : undefined;
    // Nothing to write: we applied exactly this, and nobody has changed the object since (same
    // resourceVersion). A resync at rest costs reads, not writes.
    if (existing && last && last.digest === digest && existing.metadata?.resourceVersion === last.resourceVersion) return existing;
    const patch = () =>
      this.client.request<KubeObject>('PATCH', path, {
        signal,
        query: { fieldManager: this.fieldManager, force: true, fieldValidation: 'Strict' },
        body,
        contentType: 'application/apply-patch+yaml',
      });
    let applied: KubeObject;
    try {
      applied = await patch();
    } catch (err) {
      // An object of ours that someone else's edit made unmergeable with what we apply (a list
      // entry under another field manager: a Service port edited by hand clashes by name with
      // ours) is replaced: deleted while it is still the one we checked, and applied anew.
      if (!(ownerUID && existing?.metadata?.uid && err instanceof KubeApiError && err.code === 422)) throw err;
      await this.client.request('DELETE', path, {
        signal,
        body: {
          apiVersion: 'v1',
          kind: 'DeleteOptions',
          preconditions: { uid: existing.metadata.uid, resourceVersion: existing.metadata.resourceVersion },
        },
      });
      this.replaced++;
      applied = await patch();
    }
    const resourceVersion = applied?.metadata?.resourceVersion;
    if (resourceVersion) this.lastApplied.set(path, { digest, resourceVersion });
    else this.lastApplied.delete(path);
    return applied;
  }

  private async get(path: string, signal?: AbortSignal): Promise<KubeObject | undefined> {
    try {
      return await this.client.request<KubeObject>('GET', path, { signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Applies every object in order. */
  async applyAll(objects: readonly KubeObject[]): Promise<KubeObject[]> {
    const applied: KubeObject[] = [];
    for (const obj of objects) applied.push(await this.apply(obj));
    return applied;
  }

  /** The object as stored (undefined when there is none), once it is known to be ours to write. */
  private async checkOwned(obj: KubeObject, path: string, ownerUID: string, signal?: AbortSignal): Promise<KubeObject | undefined> {
    const existing = await this.get(path, signal);
    if (!existing) return undefined;
    const component = obj.metadata?.labels?.[this.ownership.componentKey] ?? '';
    const released = this.labelled(existing, component) && (existing.metadata?.ownerReferences ?? []).length === 0 && this.signed(existing, obj);
    if (!released && !this.owns({ ...existing, kind: obj.kind }, component, ownerUID))
      throw new NotOwnedError(identity({ ...existing, kind: obj.kind }));
    return existing;
  }

  /**
   * Cleans up `component` when its owner goes: deletes what it owns but `kept`, and releases
   * `kept` (removes the owner references, so the garbage collector leaves them; the labels
   * stay, so a later owner adopts them, see {@link apply}). One listing serves both.
   */
  async retire(
    component: string,
    kept: readonly KubeObject[],
    kinds: readonly KindRef[],
    log: Logger,
    ownerUID: string,
    signal?: AbortSignal,
  ): Promise<{ deleted: string[]; released: string[] }> {
    const keep = new Set(kept.map(identity));
    const deleted: string[] = [];
    const released: string[] = [];
    // From the server, not the caches: a release writes with the resourceVersion it read.
    for (const owned of await this.listOwned(component, kinds, ownerUID, false)) {
      if (signal?.aborted) break;
      if (!keep.has(identity(owned.object))) {
        if (await this.delete(owned.object, owned.path, signal)) deleted.push(identity(owned.object));
        continue;
      }
      await this.client.request('PATCH', owned.path, {
        signal,
        contentType: 'application/merge-patch+json',
        body: { metadata: { ownerReferences: null, resourceVersion: owned.object.metadata?.resourceVersion } },
      });
      released.push(identity(owned.object));
    }
    if (deleted.length > 0 || released.length > 0) log.info({ component, deleted, released }, 'cleaned up; what is released outlives the owner');
    return { deleted, released };
  }

  /** True when `existing` carries the signature `desired` carries: labels alone can be copied by anybody. */
  private signed(existing: KubeObject, desired: KubeObject): boolean {
    const key = this.ownership.signatureKey;
    const signature = key ? desired.metadata?.annotations?.[key] : undefined;
    return signature !== undefined && signature !== '' && existing.metadata?.annotations?.[key ?? ''] === signature;
  }

  private labelled(obj: KubeObject, component: string): boolean {
    const labels = obj.metadata?.labels ?? {};
    return labels[this.ownership.managedBy.key] === this.ownership.managedBy.value && labels[this.ownership.componentKey] === component;
  }

  /**
   * Deletes the objects of `component` among `kinds` that are not in `desired`: only those with
   * the ownership labels and an owner reference with `ownerUID`. Kinds the server does not
   * serve are skipped. Returns what was deleted, as `Kind ns/name`.
   */
  async prune(
    component: string,
    desired: readonly KubeObject[],
    kinds: readonly KindRef[],
    log: Logger,
    ownerUID: string,
    signal?: AbortSignal,
  ): Promise<string[]> {
    const keep = new Set(desired.map(identity));
    const deleted: string[] = [];
    for (const owned of await this.listOwned(component, kinds, ownerUID)) {
      if (keep.has(identity(owned.object))) continue;
      if (signal?.aborted) break;
      if (await this.delete(owned.object, owned.path, signal)) deleted.push(identity(owned.object));
    }
    if (deleted.length > 0) log.info({ component, deleted }, 'pruned objects no longer rendered');
    return deleted;
  }

  /** Deletes every object of `component` among `kinds` owned by `ownerUID`. */
  async deleteComponent(component: string, kinds: readonly KindRef[], log: Logger, ownerUID: string, signal?: AbortSignal): Promise<string[]> {
    return this.prune(component, [], kinds, log, ownerUID, signal);
  }

  /** The objects of `component` among `kinds` owned by `ownerUID`, from the caches where they are synced (`cached`), else from the server. */
  private async listOwned(
    component: string,
    kinds: readonly KindRef[],
    ownerUID: string,
    cached = true,
  ): Promise<Array<{ object: KubeObject; path: string }>> {
    const { managedBy, componentKey } = this.ownership;
    const selector = `${managedBy.key}=${managedBy.value},${componentKey}=${component}`;
    // One list per kind and namespace, all at once: a reconcile waits for the slowest, not for their sum.
    const perKind = await Promise.all(
      kinds.map(async (ref) => {
        const info = await this.mapper.resource(ref.apiVersion, ref.kind);
        if (!info) return [];
        // A cluster-scoped kind is listed cluster-wide whatever the namespaces say.
        const lists = await Promise.all(
          (info.namespaced ? (ref.namespaces ?? [undefined]) : [undefined]).map(async (namespace) => {
            const cache = cached ? this.cache?.of(ref.apiVersion, ref.kind, namespace, component) : undefined;
            if (cache) return cache.list().filter((item) => namespace === undefined || item.metadata?.namespace === namespace);
            try {
              return (
                await this.client.request<{ items: KubeObject[] }>('GET', resourcePath(info, namespace), { query: { labelSelector: selector } })
              ).items;
            } catch (err) {
              // Without list there, there was no create there either: nothing of ours to find.
              if (namespace === undefined || !isForbidden(err)) throw err;
              return [];
            }
          }),
        );
        return lists
          .flat()
          .map((item) => ({ item, object: { ...item, apiVersion: ref.apiVersion, kind: ref.kind } }))
          .filter(({ object }) => this.owns(object, component, ownerUID))
          .map(({ item, object }) => ({ object, path: resourcePath(info, item.metadata?.namespace, item.metadata?.name) }));
      }),
    );
    return perKind.flat();
  }

  /** Ours: the ownership labels (checked again client-side, should a server ignore the selector) and an owner reference with `ownerUID`. */
  private owns(obj: KubeObject, component: string, ownerUID: string): boolean {
    return this.labelled(obj, component) && ownerUID !== '' && (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === ownerUID);
  }

  /**
   * Deletes `obj` if it is still the object that was found ours: the same UID and, when this
   * Applier reads caches (which may lag), the same resourceVersion. Changed since (409), it is left: the change
   * queues a reconcile that looks again.
   */
  private async delete(obj: KubeObject, path: string, signal?: AbortSignal): Promise<boolean> {
    this.lastApplied.delete(path);
    const preconditions = { uid: obj.metadata?.uid, ...(this.cache ? { resourceVersion: obj.metadata?.resourceVersion } : {}) };
    try {
      await this.client.request('DELETE', path, {
        signal,
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions },
      });
      return true;
    } catch (err) {
      if (isNotFound(err)) return true;
      if (this.cache && isConflict(err)) return false;
      throw err;
    }
  }
}

/** `Kind namespace/name`, or `Kind name` for cluster-scoped objects. */
export function identity(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind ?? ''} ${ns ? `${ns}/` : ''}${obj.metadata?.name ?? ''}`;
}

function withoutStatus(obj: KubeObject): KubeObject {
  const { status: _status, ...rest } = obj;
  return rest;
}
