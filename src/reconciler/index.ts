/**
 * The reconciler library: what controller-runtime gives Go controllers, for TypeScript.
 * It knows nothing of Flant; controllers bring their own reconcile functions and labels.
 */
export { Applier, identity, NotOwnedError, type CachedKind, type KindRef, type OwnedCache, type Ownership } from './apply.js';
export { FakeClock, flush, realClock, rfc3339, type Clock, type Timer } from './clock.js';
export {
  changedConditions,
  findCondition,
  firstFailure,
  removeCondition,
  setCondition,
  type Check,
  type Condition,
  type ConditionInput,
} from './conditions.js';
export { Controller, type ControllerOptions, type Reconciler, type Result } from './controller.js';
export { fence, isLeadershipLost, isTerminal, LeadershipLostError, TerminalError } from './errors.js';
export { EventRecorder, type EventSource } from './events.js';
export { errorText, Informer, objectKey, type InformerEvent, type InformerOptions } from './informer.js';
export {
  describeNetworkError,
  isConflict,
  isNotFound,
  isNotServed,
  KubeApiError,
  kubeClient,
  type KubeClient,
  type KubeList,
  type KubeObject,
  type OwnerReference,
  type WatchEvent,
} from './kube.js';
export { LeaderElector, microTime, type LeaderElectionOptions } from './leaderelection.js';
export { createLogger, redactPaths, type LoggerOptions } from './log.js';
export { groupVersionPath, resourcePath, RESTMapper, type ResourceInfo } from './mapper.js';
export { ManagerMetrics } from './metrics.js';
export { Manager, type CacheSource, type ManagerOptions } from './manager.js';
export { NamespacedInformers, type NamespacedInformerOptions } from './namespaced.js';
export { anyHost, listen, metricsRoutes, parseBindAddress, probeRoutes, serve, type Listener } from './server.js';
export { deploymentAvailable, type DeploymentObject } from './workloads.js';
export { redacted, redactValues, truncateBytes } from './redact.js';
