/**
 * Server-side apply and prune. Objects are applied with one field manager (forcing
 * conflicts only over fields that manager owns by design), and a component's objects
 * that it no longer renders are deleted, found by ownership labels. An object without
 * those labels is never deleted.
 */
import type { Logger } from 'pino';
import { isNotFound, type KubeClient, type KubeObject } from './kube.js';
import { resourcePath, type RESTMapper } from './mapper.js';

/** Labels that mark what a controller owns. */
export interface Ownership {
  /** Label key and value set on every owned object, e.g. `app.kubernetes.io/managed-by`. */
  readonly managedBy: { readonly key: string; readonly value: string };
  /** Label key whose value names the component that rendered the object. */
  readonly componentKey: string;
}

/** A kind a component may render, so prune knows where to look. */
export interface KindRef {
  readonly apiVersion: string;
  readonly kind: string;
}

/** Applies and prunes objects with server-side apply. */
export class Applier {
  constructor(
    private readonly client: KubeClient,
    private readonly mapper: RESTMapper,
    private readonly ownership: Ownership,
    /** Field manager of every apply. */
    private readonly fieldManager: string,
  ) {}

  /**
   * Server-side applies `obj` and returns what the server stored. A field the server's
   * schema does not know is an error (fieldValidation=Strict), never silently dropped.
   */
  async apply(obj: KubeObject): Promise<KubeObject> {
    const info = await this.mapper.resourceOf(obj);
    const path = resourcePath(info, obj.metadata?.namespace, obj.metadata?.name);
    return this.client.request<KubeObject>('PATCH', path, {
      query: { fieldManager: this.fieldManager, force: true, fieldValidation: 'Strict' },
      body: withoutStatus(obj),
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** Applies every object in order. */
  async applyAll(objects: readonly KubeObject[]): Promise<KubeObject[]> {
    const applied: KubeObject[] = [];
    for (const obj of objects) applied.push(await this.apply(obj));
    return applied;
  }

  /**
   * Deletes the objects of `component` (by label) among `kinds` that are not in `desired`.
   * Kinds the server does not serve are skipped. Returns what was deleted, as `Kind ns/name`.
   */
  async prune(component: string, desired: readonly KubeObject[], kinds: readonly KindRef[], log: Logger): Promise<string[]> {
    const keep = new Set(desired.map(identity));
    const deleted: string[] = [];
    for (const owned of await this.listOwned(component, kinds)) {
      if (keep.has(identity(owned.object))) continue;
      await this.delete(owned.object, owned.path);
      deleted.push(identity(owned.object));
    }
    if (deleted.length > 0) log.info({ component, deleted }, 'pruned objects no longer rendered');
    return deleted;
  }

  /** Deletes every object of `component` among `kinds`. */
  async deleteComponent(component: string, kinds: readonly KindRef[], log: Logger): Promise<string[]> {
    return this.prune(component, [], kinds, log);
  }

  private async listOwned(component: string, kinds: readonly KindRef[]): Promise<Array<{ object: KubeObject; path: string }>> {
    const { managedBy, componentKey } = this.ownership;
    const selector = `${managedBy.key}=${managedBy.value},${componentKey}=${component}`;
    const found: Array<{ object: KubeObject; path: string }> = [];
    for (const ref of kinds) {
      const info = await this.mapper.resource(ref.apiVersion, ref.kind);
      if (!info) continue;
      const list = await this.client.request<{ items: KubeObject[] }>('GET', resourcePath(info), { query: { labelSelector: selector } });
      for (const item of list.items) {
        const object = { ...item, apiVersion: ref.apiVersion, kind: ref.kind };
        if (this.owns(object, component)) found.push({ object, path: resourcePath(info, item.metadata?.namespace, item.metadata?.name) });
      }
    }
    return found;
  }

  /** Checks the labels again on the client side: a server that ignored the selector must not make us delete. */
  private owns(obj: KubeObject, component: string): boolean {
    const labels = obj.metadata?.labels ?? {};
    return labels[this.ownership.managedBy.key] === this.ownership.managedBy.value && labels[this.ownership.componentKey] === component;
  }

  private async delete(obj: KubeObject, path: string): Promise<void> {
    try {
      await this.client.request('DELETE', path, {
        body: { apiVersion: 'v1', kind: 'DeleteOptions', propagationPolicy: 'Background', preconditions: { uid: obj.metadata?.uid } },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
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
