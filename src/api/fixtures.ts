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
  { name: 'connect.url over plain HTTP to a remote host', spec: { connect: { url: 'http://connect.example.com' } }, field: 'connect.url' },
  { name: 'metrics.url over plain HTTP to a remote host', spec: { metrics: { url: 'http://10.1.2.3:9090/write' } }, field: 'metrics.url' },
  {
    name: 'prometheus.url over plain HTTP to a remote host (the exporter sends its token)',
    spec: { prometheus: { url: 'http://prometheus.example:9090' } },
    field: 'prometheus.url',
  },
  { name: 'logs.url over plain HTTP to a look-alike of loopback', spec: { logs: { url: 'http://127.0.0.1.example.com/push' } }, field: 'logs.url' },
  {
    name: 'connect.url with a port over 65535 (Go parses it, WHATWG does not)',
    spec: { connect: { url: 'https://connect.example.com:99999' } },
    field: 'connect.url',
  },
  {
    name: 'logs.url with a no-break space (JS \\s matches U+00A0, RE2 does not)',
    spec: { logs: { url: 'https://loki.example.com/\u00a0push' } },
    field: 'logs.url',
  },
  { name: 'metrics.url with credentials in it', spec: { metrics: { url: 'https://user:secret@metrics.example.com/write' } }, field: 'metrics.url' },
  {
    name: 'madison.grafanaURL with credentials in it',
    spec: { madison: { grafanaURL: 'https://admin:admin@grafana.example.com' } },
    field: 'madison.grafanaURL',
  },
  {
    name: 'clusterUUID of 65 characters, counted as the API server counts them',
    spec: { clusterUUID: '\u{1F600}'.repeat(65) },
    field: 'clusterUUID',
  },
  { name: 'madison.discoveryInterval zero', spec: { madison: { discoveryInterval: '0s' } }, field: 'madison.discoveryInterval' },
  { name: 'madison.discoveryInterval under 30s', spec: { madison: { discoveryInterval: '29s' } }, field: 'madison.discoveryInterval' },
  { name: 'metrics.scrapeInterval under 10s', spec: { metrics: { scrapeInterval: '1s' } }, field: 'metrics.scrapeInterval' },
];

/** Specs the API must accept although they sit near a rule above. */
export const goodSpecs: ReadonlyArray<{ readonly name: string; readonly spec: Record<string, unknown> }> = [
  { name: 'connect.url over plain HTTP to 127.0.0.1', spec: { connect: { url: 'http://127.0.0.1:8080' } } },
  { name: 'prometheus.url over plain HTTP to 127.0.0.1', spec: { prometheus: { url: 'http://127.0.0.1:9090' } } },
  { name: 'logs.url over plain HTTP to localhost', spec: { logs: { url: 'http://localhost:3100/push' } } },
  { name: 'metrics.url over plain HTTP to [::1]', spec: { metrics: { url: 'http://[::1]:9090/write' } } },
  { name: 'metrics.url over https to a remote host', spec: { metrics: { url: 'https://metrics.example.com/write' } } },
  { name: 'clusterUUID of 64 emoji (64 characters, 128 UTF-16 units)', spec: { clusterUUID: '\u{1F600}'.repeat(64) } },
  { name: 'connect.url with port 65535', spec: { connect: { url: 'https://connect.example.com:65535/' } } },
  { name: 'madison.discoveryInterval exactly 30s', spec: { madison: { discoveryInterval: '30s' } } },
  { name: 'metrics.scrapeInterval of 1m30s', spec: { metrics: { scrapeInterval: '1m30s' } } },
];
