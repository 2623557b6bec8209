/**
 * Condition types and reasons of a FlantIntegration, as named constants. Each says when
 * the controller sets it, so `kubectl describe` can be read against this file.
 */

/** Condition types on `status.conditions`. */
export const ConditionType = {
  /** True when every enabled component is ready and the licence is valid. */
  Ready: 'Ready',
  /**
   * kstatus' abnormal-true `Reconciling`: present (True) only while the controller converges (objects
   * applied and not ready yet, a retry scheduled); the reason and message are those of what it waits for.
   */
  Reconciling: 'Reconciling',
  /**
   * kstatus' abnormal-true `Stalled`: present (True) only when progress needs a person (a reason of
   * {@link stalledReasons}): GitOps tools report the object Failed at once, with this reason and message.
   */
  Stalled: 'Stalled',
  /** True when a licence key was found; False says where the controller looked. */
  LicenseValid: 'LicenseValid',
  /** True when a Madison key is in use (configured, stored or just issued by Connect). */
  MadisonRegistered: 'MadisonRegistered',
  /** True when every madison-proxy Deployment is Available. */
  MadisonProxyReady: 'MadisonProxyReady',
  /** True when grafana-agent remote-writes the pricing metrics. */
  MetricsShippingReady: 'MetricsShippingReady',
  /** True when the log-shipper destination and config are applied. */
  LogShippingReady: 'LogShippingReady',
  /** True when the UpmeterRemoteWrite is applied. */
  UpmeterReady: 'UpmeterReady',
} as const;

/** A condition type of a FlantIntegration. */
export type ConditionTypeName = (typeof ConditionType)[keyof typeof ConditionType];

/** Reasons on conditions. One reason, one situation a person can act on. */
export const Reason = {
  /** The condition holds. */
  Ready: 'Ready',
  /** Some enabled component is not ready; the message names which. */
  ComponentsNotReady: 'ComponentsNotReady',
  /** The component is switched off in the spec; it counts as ready. */
  Disabled: 'Disabled',
  /** The CRD the component writes is not installed; other components go on. */
  CRDNotInstalled: 'CRDNotInstalled',
  /** A licence key was read from the Secret named in the message. */
  LicenseFound: 'LicenseFound',
  /** The Secret named in `licenseKeySecretRef` does not exist. */
  SecretNotFound: 'SecretNotFound',
  /** A Secret reference points outside the namespaces the controller may read Secrets in; it was not read. */
  SecretNamespaceNotAllowed: 'SecretNamespaceNotAllowed',
  /**
   * The controller's RBAC does not let it read Secrets in a namespace it needs: `spec.namespace`
   * (no Role there, or the namespace does not exist), or where a Secret reference points.
   */
  NamespaceForbidden: 'NamespaceForbidden',
  /** `spec.prometheus.caSecretRef` holds something else than PEM certificates (a key, a token): it was not copied. */
  InvalidCertificate: 'InvalidCertificate',
  /** The Secret exists but has no such key, or the key is empty. */
  KeyNotFound: 'KeyNotFound',
  /** No `licenseKeySecretRef` and no Deckhouse registry Secret with a password. */
  NoLicense: 'NoLicense',
  /** The Deckhouse registry Secret could not be parsed. */
  InvalidRegistrySecret: 'InvalidRegistrySecret',
  /** Nothing can be shipped without a licence: a component that needs one has removed its objects (Madison keeps its stored key). */
  LicenseMissing: 'LicenseMissing',
  /** An object the component would write exists and is not ours; it is left untouched and the message names it. */
  Conflict: 'Conflict',
  /** The Kubernetes API failed; the controller retries with backoff. */
  APIError: 'APIError',
  /** The component is being set up; the message says what it waits for. */
  Progressing: 'Progressing',
  /** Connect refused or failed the Madison registration; retried with backoff. */
  RegistrationFailed: 'RegistrationFailed',
  /** Connect says the Madison setup is archived: alerts are not shipped. */
  Revoked: 'Revoked',
  /** The Madison backends could not be resolved; the last known ones are kept. */
  DiscoveryFailed: 'DiscoveryFailed',
  /** No Madison backend is known yet. */
  NoBackends: 'NoBackends',
  /**
   * The stored spec does not pass the controller's own checks (an older or edited CRD let it in): the message names the field; nothing is changed
   * until it is fixed.
   */
  SpecInvalid: 'SpecInvalid',
} as const;

/** A condition reason of a FlantIntegration. */
export type ReasonName = (typeof Reason)[keyof typeof Reason];

/**
 * Reasons that mean progress needs a person: the controller retries nothing until something
 * changes (a Secret, a Role, a CRD, the spec), so `Stalled` is True while any condition says one.
 * Every other False reason is converging (`Reconciling`): the API failed and is retried, a
 * Deployment is rolling out, Connect or DNS failed for now.
 */
export const stalledReasons: ReadonlySet<string> = new Set<ReasonName>([
  Reason.SpecInvalid,
  Reason.NoLicense,
  Reason.SecretNotFound,
  Reason.KeyNotFound,
  Reason.InvalidRegistrySecret,
  Reason.SecretNamespaceNotAllowed,
  Reason.NamespaceForbidden,
  Reason.InvalidCertificate,
  Reason.LicenseMissing,
  Reason.CRDNotInstalled,
  Reason.Conflict,
  Reason.Revoked,
]);
