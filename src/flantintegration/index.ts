/** The FlantIntegration reconciler and the contract its components implement. */
export {
  cleanupFinalizer,
  noOfflineSection,
  componentLabel,
  conditionTypes,
  crdName,
  defineComponent,
  managedByLabel,
  managedBySelector,
  renderComponent,
  signatureAnnotation,
  stamp,
  type AnyComponent,
  type CacheView,
  type ClusterView,
  type Component,
  type ConditionChain,
  type CRDRequirement,
  type Gathered,
  type GatherContext,
  type OfflineFacts,
  type ReadinessInput,
  type WatchSpec,
} from './contract.js';
export { bestServedVersion, crdsPath, declaredCRDs, resourceInfos, servedAPIVersion, servedVersions, type CRDObject } from './crds.js';
export {
  forbiddenMessage,
  readSecretKey,
  registrySecret,
  resolveLicence,
  secretNamespaces,
  type LicenceResult,
  type Secret,
  type SecretLookup,
} from './licence.js';
export {
  FlantIntegrationReconciler,
  formerNamespace,
  ownerReference,
  type EventSink,
  type FlantIntegrationAPI,
  type FlantIntegrationDeps,
  type Lookup,
  type ObjectWriter,
} from './reconciler.js';
export { evaluate, type ComponentOutcome } from './outcomes.js';
export {
  alwaysDirect,
  clusterConfigurationSecret,
  clusterProxy,
  withClusterProxy,
  type ClusterProxy,
  type ClusterProxyResult,
} from './clusterproxy.js';
export {
  deckhouseMonitorLabels,
  deckhouseNamespaceLabels,
  deckhouseRuleLabels,
  monitorWatcherLabel,
  rulesWatcherLabel,
  workloadsNamespaceObject,
} from './namespace.js';
export {
  builtinResource,
  componentsRBAC,
  groupOf,
  uncovered,
  watchedElsewhere,
  writeVerbs,
  type BuiltinResource,
  type ComponentsRBAC,
  type PolicyRule,
} from './rbac.js';
