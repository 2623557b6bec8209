/**
 * The component contract (docs/architecture.md section 2). A component declares what it needs and
 * what it makes; the FlantIntegration reconciler (the spine) does the rest the same way
 * for every component: the disabled path, the licence gate, the CRD gate, apply + prune,
 * status parts, conditions and Events.
 */
import type { Logger } from 'pino';
import type { ConditionTypeName, FlantIntegrationSpec, FlantIntegrationStatus } from '../api/index.js';
import type { Check, Clock, ConditionInput, KindRef, KubeObject, OwnerReference } from '../reconciler/index.js';
import { z } from 'zod';
import type { SecretLookup } from './licence.js';

/** Labels every object the controller creates carries (docs/architecture.md section 2). */
export const managedByLabel = { key: 'app.kubernetes.io/managed-by', value: 'flant-integration' } as const;
/**
 * Annotation of an object that outlives its FlantIntegration (the stored Madison key): an
 * HMAC of its content keyed by the licence, so a released object is told from one anybody
 * could make by copying our labels. A released object is adopted only with the same value.
 */
export const signatureAnnotation = 'integration.flant.com/signature';
/** The label selector of every object the controller creates. */
export const managedBySelector = `${managedByLabel.key}=${managedByLabel.value}`;
/** Label naming the component that rendered an object. */
export const componentLabel = 'integration.flant.com/component';
/** Finalizer that makes the controller delete what it owns before the FlantIntegration goes. */
export const cleanupFinalizer = 'integration.flant.com/cleanup';

/** A CRD a component writes (Deckhouse's, usually): its kind and the versions it can write, best first. */
export interface CRDRequirement {
  readonly group: string;
  readonly kind: string;
  /** Plural resource name; the CRD is named `<plural>.<group>`. */
  readonly plural: string;
  /** Versions the component can write, best first. */
  readonly versions: readonly string[];
  /** The component works without it (the kind is just not rendered). @default false */
  readonly optional?: boolean;
  /** Its objects live in a namespace (written through the workloads Role). @default false: cluster-scoped */
  readonly namespaced?: boolean;
}

/** The name of the CRD of `req`: `<plural>.<group>`. */
export function crdName(req: CRDRequirement): string {
  return `${req.plural}.${req.group}`;
}

/** An informer a component needs: its cache is readable in readiness, its events reconcile. */
export interface WatchSpec {
  /** Key of its cache in {@link CacheView.list}. */
  readonly name: string;
  /** List path, e.g. `/apis/apps/v1/deployments`. */
  readonly path: string;
  /** @default none */
  readonly labelSelector?: string;
  /** @default none */
  readonly fieldSelector?: string;
  /** FlantIntegration keys an event on `obj` concerns. @default the FlantIntegrations in its owner references */
  readonly keys?: (obj: KubeObject) => string[];
  /**
   * The kind this cache holds every object of that the component writes (selected by our labels
   * and its component label), so the apply reads it before asking the server. @default none
   */
  readonly holdsOwn?: { readonly apiVersion: string; readonly kind: string };
}

/** The caches of a component's informers. */
export interface CacheView {
  /** Every cached object of the informer named `name` (empty when it has none). */
  list(name: string): readonly KubeObject[];
}

/** What a component may ask of the cluster while it gathers facts. */
export interface ClusterView {
  /** True when the namespace exists. */
  namespaceExists(name: string): Promise<boolean>;
  /** True when the Service exists. */
  serviceExists(namespace: string, name: string): Promise<boolean>;
  /** True when the controller's RBAC lets it create `resource` in `namespace` (a SelfSubjectAccessReview). */
  mayCreate(namespace: string, resource: string): Promise<boolean>;
  /** Applies one object of this component at once (labels and owner are added), e.g. a key just issued. */
  applyNow(obj: KubeObject): Promise<void>;
}

/** What `gather` gets. */
export interface GatherContext {
  /** The spec, defaults applied; `proxy` is the cluster's global proxy when the spec names none (src/flantintegration/clusterproxy.ts). */
  readonly spec: FlantIntegrationSpec;
  /** The credentials (`user:password`, URL-encoded) the cluster's global proxy URLs carried, when `spec.proxy` came from there. */
  readonly proxyUserinfo?: string;
  /** The status as stored now. */
  readonly status: FlantIntegrationStatus | undefined;
  /** The licence key; undefined only for components that do not need it. */
  readonly licenceKey: string | undefined;
  readonly clusterUUID: string;
  readonly secrets: SecretLookup;
  /** Namespaces Secret references may point into (pass them to `readSecretKey`). */
  readonly secretNamespaces: readonly string[];
  /** Those of them the controller's RBAC does not let it read (pass them to `readSecretKey`). */
  readonly forbiddenSecretNamespaces: readonly string[];
  /** The namespace written to before `spec.namespace` changed, until what was written there is removed. */
  readonly formerNamespace: string | undefined;
  /** The cached Secrets of {@link formerNamespace} (none for another namespace): what a component carries over. */
  readonly formerSecrets: SecretLookup;
  /** The apiVersion written for a kind of {@link Component.crds}, or undefined when none is served. */
  readonly served: (kind: string) => string | undefined;
  /** The caches of the components' informers. */
  readonly cache: CacheView;
  readonly cluster: ClusterView;
  readonly clock: Clock;
  readonly log: Logger;
  /** Aborts when this process stops leading: pass it to every remote call (Connect, DNS). */
  readonly signal: AbortSignal;
}

/** The facts, or why the component cannot go on (nothing is applied then). */
export type Gathered<F> =
  | { readonly facts: F; readonly requeueAfterMs?: number }
  | {
      /** Conditions to report; types not listed get the first one's reason and message. */
      readonly blocked: readonly ConditionInput[];
      /** A failure to retry with backoff. */
      readonly error?: unknown;
    };

/** What readiness checks look at. */
export interface ReadinessInput<F> {
  readonly spec: FlantIntegrationSpec;
  readonly facts: F;
  readonly cache: CacheView;
}

/** What the offline `render` command knows in place of a cluster. */
export interface OfflineFacts {
  readonly clusterUUID: string;
  readonly licenceKey: string;
  /** Image of the generated workloads that run this program. */
  readonly image: string;
  /** As {@link GatherContext.served}, from the facts file (every CRD at its best version unless it says otherwise). */
  readonly served: (kind: string) => string | undefined;
  /** This component's section of the facts file, unchecked: the component parses it (a zod error names the field). */
  readonly section: unknown;
}

/** One condition as a chain of pure checks: the first failure is its reason, else it is True. */
export interface ConditionChain<I> {
  readonly type: ConditionTypeName;
  readonly checks: ReadonlyArray<Check<I>>;
  /** The message when every check passes. */
  readonly ready: (input: I) => string;
}

/** One component. */
export interface Component<F> {
  /** Value of the component label on its objects. */
  readonly name: string;
  /** The spec field that switches it, for messages, e.g. `spec.logs.enabled`. */
  readonly enabledField: string;
  enabled(spec: FlantIntegrationSpec): boolean;
  /** Nothing is gathered or applied without a licence. */
  readonly needsLicence: boolean;
  /** The CRDs it writes; a missing one that is not optional gives `CRDNotInstalled`. */
  readonly crds: readonly CRDRequirement[];
  /** The built-in kinds it renders, so prune, cleanup, RBAC and the drift watch know them (CRD kinds come from {@link crds}). @default none */
  readonly kinds?: readonly KindRef[];
  /** Namespaces besides `spec.namespace` it writes Secrets in: prune and cleanup look there too. @default none */
  readonly writesSecretsIn?: readonly string[];
  /** Informers it needs. @default none */
  readonly informers?: readonly WatchSpec[];
  /** Secrets besides the licence whose change must reconcile, e.g. a key reference. */
  secretRefs?(spec: FlantIntegrationSpec): ReadonlyArray<{ readonly namespace: string; readonly name: string }>;
  /** Its I/O: Connect, DNS, cache reads. Throwing marks its conditions failed and retries. */
  gather(ctx: GatherContext): Promise<Gathered<F>>;
  /** Facts for the offline `render` command. */
  offlineFacts(offline: OfflineFacts): F;
  /** Pure: the objects, in apply order, without the ownership labels and owner (the spine adds them). */
  render(spec: FlantIntegrationSpec, facts: F): KubeObject[];
  /** Pure: one chain per condition type it owns, in display order. */
  readonly readiness: ReadonlyArray<ConditionChain<ReadinessInput<F>>>;
  /**
   * Objects kept when the licence goes away (everything else of the component is removed then:
   * nothing is shipped without a licence), e.g. a stored key that must survive; kept, and
   * released from the owner, when the FlantIntegration is deleted too. @default none
   */
  keptWithoutLicence?(spec: FlantIntegrationSpec): readonly KubeObject[];
  /** Secret values in its facts (e.g. a key): scrubbed, with the licence, out of every message written. */
  secretValues?(facts: F): readonly string[];
  /** Its part of the status (e.g. `madison`), from the facts. */
  status?(facts: F): Partial<FlantIntegrationStatus>;
  /** The key of its status part, kept as it was while the component cannot go on. */
  readonly statusKey?: keyof FlantIntegrationStatus;
  /**
   * Its kept status part once its objects were removed (the licence went away): what counts
   * objects must say none, so a printed column never shows what no longer exists. @default kept as is
   */
  statusWithoutObjects?(kept: Partial<FlantIntegrationStatus>): Partial<FlantIntegrationStatus>;
}

/**
 * A component whose facts type is erased, so components of different facts live in one
 * list. The spine only ever hands a component the facts its own `gather` returned.
 */
export type AnyComponent = Component<unknown>;

/** Erases the facts type of a component for the wiring's list. */
export function defineComponent<F>(component: Component<F>): AnyComponent {
  return component as unknown as AnyComponent;
}

/** The condition types a component owns. */
export function conditionTypes(component: AnyComponent): ConditionTypeName[] {
  return component.readiness.map((r) => r.type);
}

/** Adds the ownership labels of `component` and, when given, the owner reference to each object. */
export function stamp(component: string, objects: readonly KubeObject[], owner?: OwnerReference): KubeObject[] {
  return objects.map((obj) => ({
    ...obj,
    metadata: {
      ...obj.metadata,
      labels: { ...obj.metadata?.labels, [managedByLabel.key]: managedByLabel.value, [componentLabel]: component },
      ...(owner ? { ownerReferences: [{ ...owner }] } : {}),
    },
  }));
}

/** The objects a component renders for `spec` and `facts`, labelled as the controller applies them. */
export function renderComponent<F>(component: Component<F>, spec: FlantIntegrationSpec, facts: F): KubeObject[] {
  return stamp(component.name, component.render(spec, facts));
}

/**
 * `offlineFacts` of a component that reads nothing from the facts file but what every component
 * gets: refuses a section for it (a typo would be silently ignored otherwise) and returns `offline`.
 */
export function noOfflineSection(offline: OfflineFacts): OfflineFacts {
  z.object({})
    .strict()
    .parse(offline.section ?? {});
  return offline;
}
