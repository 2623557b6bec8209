/**
 * `flant-integration <command>`: the only place that reads process arguments and the
 * environment. Commands wire the rooms together and nothing more.
 */
import { parseArgs } from 'node:util';
// Light imports only: every subcommand loads what it runs (the proxy must not load the schema or prom-client).
import { durationToMillis } from '../api/duration.js';
import { defaults } from './defaults.js';
import type { RunOptions } from './run.js';
import { programVersion } from './version.js';

const usage = `Usage: flant-integration <command> [options]

Commands:
  run     run the controller
            --kubeconfig PATH               cluster to manage (default: $KUBECONFIG, else in-cluster)
            --metrics-bind-address ADDR     /metrics listener (default: ${defaults.metricsBindAddress}; 0 turns it off)
            --health-probe-bind-address ADDR  /healthz and /readyz listener (default: ${defaults.healthProbeBindAddress})
            --leader-elect                  take part in leader election (default: off)
            --leader-election-namespace NS  namespace of the Lease (default: $POD_NAMESPACE, else default)
            --sync-period DURATION          reconcile everything again this often (default: ${defaults.syncPeriod})
            --log-level LEVEL               pino level (default: $LOG_LEVEL, else ${defaults.logLevel})
            --dns-server HOST:PORT[,...]    DNS servers for Madison backend discovery (default: the system's)
            --secret-namespaces NS[,...]    more namespaces whose Secrets references may point into (always: spec.namespace,
                                            d8-system and the controller's own namespace)
            --madison-status-check-interval DURATION  how often Connect is asked whether the Madison key was revoked
                                            (default: ${defaults.madisonStatusCheckInterval})
            --madison-discovery-interval DURATION     re-resolve Madison backends this often instead of spec.madison.discoveryInterval
            --image IMAGE                   image of the madison-proxy Deployments (default: $CONTROLLER_IMAGE, else ${defaults.image})
            --network-policies true|false   render NetworkPolicies for madison-proxy and pricing (default: true)
            --monitoring-namespace NS       the cluster's Prometheus namespace, the one the NetworkPolicies admit
                                            (default: ${defaults.monitoringNamespace})
            --prometheus-rule true|false    render the PrometheusRule of alerts on ourselves when its CRD is served (default: true)
  render  print every manifest the controller would apply, with no cluster
            -f FILE                         the FlantIntegration (YAML)
            --facts FILE                    what the controller would discover: clusterUUID, licenseKey, image,
                                            crds (served version per kind, or none), madison (backends, ...) (YAML)
  proxy   run the madison-proxy program (settings from MADISON_* and LISTEN_* variables)
  pricing run the pricing exporter (the pricing container beside the metrics agent)
            --kubeconfig PATH               cluster to read (default: $KUBECONFIG, else in-cluster)
            --listen HOST:PORT              /metrics, /healthz and /readyz (default: ${defaults.pricingListen})
            --probe-listen HOST:PORT        /healthz and /readyz alone, for the kubelet (default: ${defaults.pricingProbeListen}; 0 turns it off)
            --token-file FILE               bearer token for Prometheus (default: the ServiceAccount token)
            --ca-file FILE                  CA of Prometheus when spec.prometheus.caSecretRef is not set (default: the cluster CA)
            --query-interval DURATION       how often Prometheus is queried (default: ${defaults.pricingQueryInterval})
  crd     print the FlantIntegration CRD as YAML (npm run generate writes it to crds/)
  version print this program's version and the Node.js version it runs on
  help    print this text
`;

/** Runs the command line and returns the process exit code. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await (await import('./run.js')).runCommand(runOptions(rest, env));
      case 'crd':
        return await crdCommand(rest);
      case 'proxy':
        return await proxyCommand(rest, env);
      case 'render':
        return await renderCommand(rest);
      case 'pricing':
        return await pricingCommand(rest, env);
      case 'version':
      case '--version':
        process.stdout.write(`flant-integration ${programVersion} (Node.js ${process.version})\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (err) {
    process.stderr.write(`flant-integration: ${errorLine(err)}\n`);
    if (err instanceof UsageError) process.stderr.write('Run "flant-integration help" for usage.\n');
    return err instanceof UsageError ? 2 : 1;
  }
}

class UsageError extends Error {}

function runOptions(args: readonly string[], env: NodeJS.ProcessEnv): RunOptions {
  const { values } = parse(args, {
    kubeconfig: { type: 'string' },
    'metrics-bind-address': { type: 'string', default: defaults.metricsBindAddress },
    'health-probe-bind-address': { type: 'string', default: defaults.healthProbeBindAddress },
    'leader-elect': { type: 'boolean', default: false },
    'leader-election-namespace': { type: 'string' },
    'sync-period': { type: 'string', default: defaults.syncPeriod },
    'dns-server': { type: 'string' },
    'secret-namespaces': { type: 'string' },
    'madison-status-check-interval': { type: 'string', default: defaults.madisonStatusCheckInterval },
    'madison-discovery-interval': { type: 'string' },
    image: { type: 'string', default: env.CONTROLLER_IMAGE ?? defaults.image },
    'network-policies': { type: 'string', default: 'true' },
    'monitoring-namespace': { type: 'string', default: defaults.monitoringNamespace },
    'prometheus-rule': { type: 'string', default: 'true' },
    'log-level': { type: 'string', default: env.LOG_LEVEL ?? defaults.logLevel },
  });
  return {
    kubeconfig: typeof values.kubeconfig === 'string' ? values.kubeconfig : env.KUBECONFIG || undefined,
    inCluster: Boolean(env.KUBERNETES_SERVICE_HOST),
    metricsBindAddress: String(values['metrics-bind-address']),
    healthProbeBindAddress: String(values['health-probe-bind-address']),
    leaderElect: values['leader-elect'] === true,
    leaderElectionNamespace: typeof values['leader-election-namespace'] === 'string' ? values['leader-election-namespace'] : undefined,
    syncPeriodMs: durationFlag(String(values['sync-period']), '--sync-period'),
    dnsServers: typeof values['dns-server'] === 'string' ? values['dns-server'].split(',').filter(Boolean) : undefined,
    secretNamespaces: namespaceList(values['secret-namespaces'], '--secret-namespaces'),
    image: String(values.image),
    revocationCheckIntervalMs: durationFlag(String(values['madison-status-check-interval']), '--madison-status-check-interval'),
    discoveryIntervalMs:
      typeof values['madison-discovery-interval'] === 'string'
        ? durationFlag(values['madison-discovery-interval'], '--madison-discovery-interval')
        : undefined,
    logLevel: String(values['log-level']),
    podName: env.POD_NAME,
    podNamespace: env.POD_NAMESPACE,
    networkPolicies: booleanFlag(values['network-policies'], '--network-policies'),
    monitoringNamespace: namespaceList(values['monitoring-namespace'], '--monitoring-namespace')?.[0],
    prometheusRule: booleanFlag(values['prometheus-rule'], '--prometheus-rule'),
  };
}

/** `true` or `false`, spelled out (so `--flag=false` reads as it says). */
function booleanFlag(value: unknown, flag: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`${flag} must be true or false, not "${String(value)}"`);
}

/** A comma-separated list of namespace names, each checked. */
function namespaceList(value: unknown, flag: string): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  const bad = names.find((n) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n) || n.length > 63);
  if (bad !== undefined) throw new UsageError(`${flag}: "${bad}" is not a namespace name`);
  return names;
}

function durationFlag(text: string, flag: string): number {
  const ms = durationToMillis(text);
  if (!/^([0-9]+(ms|s|m|h))+$/.test(text) || ms <= 0) throw new UsageError(`${flag} must be a duration such as 30s or 10m, not "${text}"`);
  return ms;
}

async function proxyCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  parse(args, {});
  const { lineLogger, proxyConfigFromEnv, startProxy } = await import('../proxy/index.js');
  const { secretFields } = await import('./secret-fields.js');
  const log = lineLogger(env.LOG_LEVEL ?? 'info', secretFields);
  const proxy = await startProxy(proxyConfigFromEnv(env), log);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await proxy.close();
  log.info({}, 'madison-proxy stopped');
  return 0;
}

async function pricingCommand(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { pricingCommand: run, serviceAccountDir } = await import('./pricing.js');
  const { values } = parse(args, {
    kubeconfig: { type: 'string' },
    listen: { type: 'string', default: defaults.pricingListen },
    'probe-listen': { type: 'string', default: defaults.pricingProbeListen },
    'token-file': { type: 'string', default: `${serviceAccountDir}/token` },
    'ca-file': { type: 'string', default: `${serviceAccountDir}/ca.crt` },
    'query-interval': { type: 'string', default: defaults.pricingQueryInterval },
  });
  return run({
    kubeconfig: typeof values.kubeconfig === 'string' ? values.kubeconfig : env.KUBECONFIG || undefined,
    inCluster: Boolean(env.KUBERNETES_SERVICE_HOST),
    listen: String(values.listen),
    probeListen: String(values['probe-listen']),
    logLevel: env.LOG_LEVEL ?? 'info',
    tokenFile: String(values['token-file']),
    caFile: String(values['ca-file']),
    queryIntervalMs: durationFlag(String(values['query-interval']), '--query-interval'),
  });
}

async function renderCommand(args: readonly string[]): Promise<number> {
  const { values } = parse(args, { file: { type: 'string', short: 'f' }, facts: { type: 'string' } });
  if (typeof values.file !== 'string') throw new UsageError('render needs -f FILE (a FlantIntegration manifest)');
  const { renderFromFiles } = await import('./render.js');
  process.stdout.write(
    await renderFromFiles(values.file, typeof values.facts === 'string' ? values.facts : undefined, (line) =>
      process.stderr.write(`flant-integration: ${line}\n`),
    ),
  );
  return 0;
}

async function crdCommand(args: readonly string[]): Promise<number> {
  parse(args, {});
  const { flantIntegrationCRDYaml } = await import('../api/index.js');
  process.stdout.write(flantIntegrationCRDYaml());
  return 0;
}

type Spec = Record<string, { type: 'string' | 'boolean'; default?: string | boolean; short?: string }>;

function parse(args: readonly string[], options: Spec) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: false, strict: true });
  } catch (err) {
    throw new UsageError(errorLine(err));
  }
}

/** One line for a person: the message and, when it adds something, its cause. */
export function errorLine(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error && !err.message.includes(err.cause.message) ? `: ${err.cause.message}` : '';
  return (err.message + cause).replace(/\s*\n\s*/g, ' ');
}
