/**
 * Every component, in display order: the one place that knows them all (docs/architecture.md section 2).
 * A module of its own so that `render` loads the components and not the controller's
 * machinery (informers, manager, prom-client).
 */
import { defaults } from './defaults.js';
import { AlertsComponent, dnsResolver, LogsComponent, MadisonComponent, MetricsComponent, UpmeterComponent } from '../components/index.js';
import { defineComponent, type AnyComponent } from '../flantintegration/index.js';

/** What the components need from the process. */
export interface ComponentOptions {
  /** DNS servers (`host:port`) for Madison backend discovery. @default the system's */
  readonly dnsServers?: readonly string[];
  /** Image of the generated workloads that run this program (madison-proxy, the pricing exporter). */
  readonly image: string;
  /** How often Connect is asked whether the Madison key was revoked, in ms. */
  readonly revocationCheckIntervalMs?: number;
  /** Re-resolve Madison backends this often instead of the spec's interval, in ms. @default the spec's */
  readonly discoveryIntervalMs?: number;
  /** Render NetworkPolicies for madison-proxy and pricing. @default true */
  readonly networkPolicies?: boolean;
  /** The namespace of the cluster's Prometheus, the one source the NetworkPolicies admit. @default {@link defaultMonitoringNamespace} */
  readonly monitoringNamespace?: string;
  /** Render the PrometheusRule of alerts on ourselves (when its CRD is served). @default true */
  readonly prometheusRule?: boolean;
}

/** Where Deckhouse runs Prometheus. */
export const defaultMonitoringNamespace = defaults.monitoringNamespace;

/**
 * Every component, in display order. A new component is its folder under src/components/ and
 * one line here (plus its spec section in src/api/schema.ts and its condition type in
 * src/api/conditions.ts, if it has them): its RBAC, its drift watch and `render` follow from
 * what it declares.
 */
export function components(options: ComponentOptions): AnyComponent[] {
  const networkPolicyFrom = options.networkPolicies === false ? undefined : (options.monitoringNamespace ?? defaultMonitoringNamespace);
  return [
    defineComponent(
      new MadisonComponent({
        resolver: dnsResolver(options.dnsServers),
        image: options.image,
        revocationCheckIntervalMs: options.revocationCheckIntervalMs,
        discoveryIntervalMs: options.discoveryIntervalMs,
        networkPolicyFrom,
      }),
    ),
    defineComponent(new MetricsComponent({ image: options.image, networkPolicyFrom })),
    defineComponent(new LogsComponent()),
    defineComponent(new UpmeterComponent()),
    defineComponent(new AlertsComponent(options.prometheusRule !== false)),
  ];
}
