/**
 * Specs the API must refuse, each with the field the refusal must name. Shared by the
 * unit tests (zod) and the e2e specs (the real API server), so both judge the same inputs.
 */

/** One bad spec and the field its refusal names, relative to `spec`. */
export interface BadSpec {
  readonly name: string;
  readonly spec: Record<string, unknown>;
  readonly field: string;
}

/** Bad specs, one distinct mistake each. */
export const badSpecs: readonly BadSpec[] = [
  { name: 'negative billing.contacts', spec: { billing: { contacts: -1 } }, field: 'billing.contacts' },
  { name: 'fractional billing.contacts', spec: { billing: { contacts: 1.5 } }, field: 'billing.contacts' },
  { name: 'billing.nodesDiscount over 100', spec: { billing: { nodesDiscount: 101 } }, field: 'billing.nodesDiscount' },
  { name: 'negative billing.nodesDiscount', spec: { billing: { nodesDiscount: -5 } }, field: 'billing.nodesDiscount' },
  { name: 'upmeter.intervalSeconds 60', spec: { upmeter: { intervalSeconds: 60 } }, field: 'upmeter.intervalSeconds' },
  { name: 'billing.clusterType Foo', spec: { billing: { clusterType: 'Foo' } }, field: 'billing.clusterType' },
  { name: 'metrics.url not a URL', spec: { metrics: { url: 'not a url' } }, field: 'metrics.url' },
  { name: 'logs.url with ftp scheme', spec: { logs: { url: 'ftp://loki.example.com' } }, field: 'logs.url' },
  { name: 'connect.url without host', spec: { connect: { url: 'https://' } }, field: 'connect.url' },
  { name: 'kubeall without host', spec: { kubeall: { kubectl: 'kubectl' } }, field: 'kubeall.host' },
  { name: 'madison.enabled a string', spec: { madison: { enabled: 'yes' } }, field: 'madison.enabled' },
  { name: 'metrics.enabled a number', spec: { metrics: { enabled: 1 } }, field: 'metrics.enabled' },
  { name: 'logs.enabled a string', spec: { logs: { enabled: 'true' } }, field: 'logs.enabled' },
  { name: 'billing.planIsBoughtAsBundle a string', spec: { billing: { planIsBoughtAsBundle: 'no' } }, field: 'billing.planIsBoughtAsBundle' },
  { name: 'billing.auxiliaryCluster a number', spec: { billing: { auxiliaryCluster: 0 } }, field: 'billing.auxiliaryCluster' },
  { name: 'billing.doNotChargeForRockSolid a string', spec: { billing: { doNotChargeForRockSolid: 'x' } }, field: 'billing.doNotChargeForRockSolid' },
  { name: 'madison.discoveryInterval not a duration', spec: { madison: { discoveryInterval: 'ten minutes' } }, field: 'madison.discoveryInterval' },
  { name: 'madison.backendsHost not a DNS name', spec: { madison: { backendsHost: 'Not_A_Host!' } }, field: 'madison.backendsHost' },
  { name: 'namespace not a DNS label', spec: { namespace: 'D8_Flant' }, field: 'namespace' },
  { name: 'licenseKeySecretRef without key', spec: { licenseKeySecretRef: { namespace: 'a', name: 'b' } }, field: 'licenseKeySecretRef.key' },
  { name: 'an unknown field', spec: { madison: { backendHost: 'typo.example.com' } }, field: 'madison' },
  { name: 'proxy.httpsProxy not a URL', spec: { proxy: { httpsProxy: 'proxy:3128' } }, field: 'proxy.httpsProxy' },
];
