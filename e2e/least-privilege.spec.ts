/**
 * Least privilege, proven: runs last (vitest.config.ts orders it so) and reads the audit log
 * of every control plane of the run. The controller and the pricing exporter ran as their
 * ServiceAccounts, bound by the RBAC the install and the metrics component generate; this
 * fails when that RBAC grants a verb they never used, or lacks one they did.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { controllerName, controllerNamespace, installObjects, workloadsNamespace } from '../cdk8s/install.js';
import { metricsObjects } from '../src/components/metrics/render.js';
import { flantIntegrationSpecSchema, group, plural } from '../src/api/index.js';
import {
  grantsOf,
  parseAudit,
  refused,
  transientlyRefused,
  uncovered,
  unused,
  usesOf,
  wildcards,
  type AuditEvent,
  type Exception,
} from './support/audit.js';

const auditDir = inject('auditDir');
const controllerUser = `system:serviceaccount:${controllerNamespace}:${controllerName}`;
const exporterUser = /^system:serviceaccount:[a-z0-9-]+:pricing$/;

/** Grants no request shows, and why they are needed all the same. */
const exceptions: Exception[] = [
  {
    group,
    resource: `${plural}/finalizers`,
    verb: 'update',
    why: 'asked by the OwnerReferencesPermissionEnforcement admission plugin (on in e2e) for blockOwnerDeletion, not a request of its own',
  },
];

/**
 * What Kubernetes grants every authenticated user (ClusterRole `system:basic-user`): the
 * controller asks with a SelfSubjectAccessReview whether it may list Secrets in a namespace
 * before it lists there. Not the install's to grant, so not counted as unused.
 */
const everyUser = [
  {
    apiGroups: ['authorization.k8s.io'],
    resources: ['selfsubjectaccessreviews'],
    verbs: ['create'],
    from: 'ClusterRole system:basic-user (Kubernetes default)',
  },
];

/** The namespace and CA Secret of e2e/metrics.spec.ts, where the exporter runs. */
const metricsNamespace = 'metrics-e2e';
/**
 * The specs whose FlantIntegration names a caSecretRef: the exporter's CA Role (on the copy, pricing-prometheus-ca) is made in their spec.namespace.
 */
const caSecretNamespaces = [metricsNamespace, 'image-e2e'];

/** The exporter's grant no request of its own shows. */
const exporterExceptions: Exception[] = [
  {
    group: 'monitoring.coreos.com',
    resource: 'prometheuses/http',
    verb: 'get',
    why: "Deckhouse's Prometheus checks it for the exporter's token with a SubjectAccessReview",
  },
];

/** The install's Role in the default workloads namespace stands for the same Role in each spec's namespace (`*-e2e`). */
function roleNamespaces(role: { name: string; namespace: string }, used: readonly string[]): readonly string[] {
  return role.namespace === workloadsNamespace ? [workloadsNamespace, ...used.filter((ns) => ns.endsWith('-e2e'))] : [role.namespace];
}

/**
 * A server-side apply that creates its object is authorized for `create` as well as `patch`,
 * while the request (and its audit event) says `patch`: create is justified wherever an apply
 * succeeded. (Without it such an apply is refused: seen while this RBAC was trimmed.)
 */
function applyCreates(uses: ReturnType<typeof usesOf>): Exception[] {
  const applied = uses.filter((u) => u.verb === 'patch' && u.code < 300);
  return [...new Set(applied.map((u) => `${u.group}|${u.resource}`))].map((k) => {
    const [g, resource] = k.split('|');
    return { group: g ?? '', resource: resource ?? '', verb: 'create', why: 'server-side apply that creates' };
  });
}

async function auditEvents(): Promise<AuditEvent[]> {
  const files = (await readdir(auditDir)).filter((f) => f.endsWith('.log'));
  const texts = await Promise.all(files.map((f) => readFile(join(auditDir, f), 'utf8')));
  return texts.flatMap(parseAudit);
}

describe.skipIf(!auditDir)('least privilege, from the audit log of the whole e2e run', () => {
  it('grants the controller and the exporter exactly the verbs they used, and no wildcard', async () => {
    const events = await auditEvents();
    const controller = usesOf(events, controllerUser);
    const exporter = usesOf(events, exporterUser);
    expect(controller.length, 'the controller made requests as its ServiceAccount').toBeGreaterThan(100);
    expect(exporter.length, 'the exporter made requests as its ServiceAccount').toBeGreaterThan(5);

    const namespaces = [...new Set(controller.map((u) => u.namespace))];
    // As installed for the suite: the Deckhouse Roles, and kube-system as a secretNamespaces entry (the reconciler spec grants it).
    const install = grantsOf(installObjects({ deckhouse: true, secretNamespaces: ['kube-system'] }), (role) => roleNamespaces(role, namespaces));
    // The exporter's ClusterRole as the metrics component renders it (with a caSecretRef: its Role too, in each spec's namespace that names one).
    const spec = flantIntegrationSpecSchema.parse({
      namespace: metricsNamespace,
      prometheus: { caSecretRef: { namespace: metricsNamespace, name: 'prometheus-ca', key: 'ca.crt' } },
    });
    const exporterObjects = metricsObjects(spec, {
      licenceKey: 'k',
      clusterUUID: 'u',
      image: 'i',
      podMonitorServed: false,
      deckhouseTelemetry: false,
      clusterDomain: 'cluster.local',
      prometheusCA: 'PEM',
    }) as Array<Record<string, unknown>>;
    const exporterGrants = grantsOf(exporterObjects, (role) => (role.namespace === metricsNamespace ? caSecretNamespaces : [role.namespace]));

    const report = {
      controllerRefused: refused(controller),
      controllerUncovered: uncovered(controller, [...install, ...everyUser]),
      controllerUnused: unused(install, controller, exporterGrants, [...exceptions, ...applyCreates(controller)]),
      exporterRefused: refused(exporter),
      exporterUncovered: uncovered(exporter, exporterGrants),
      exporterUnused: unused(exporterGrants, exporter, [], exporterExceptions),
      wildcards: wildcards([...install, ...exporterGrants]),
    };
    const transient = [...transientlyRefused(controller), ...transientlyRefused(exporter)];
    process.stderr.write(
      `e2e: least privilege: ${controller.length} requests of the controller, ${exporter.length} of the exporter; refused but allowed at ` +
        `other times (kube-apiserver restarts): ${transient.length ? transient.join('; ') : 'none'}\n`,
    );
    expect(report).toEqual({
      controllerRefused: [],
      controllerUncovered: [],
      controllerUnused: [],
      exporterRefused: [],
      exporterUncovered: [],
      exporterUnused: [],
      wildcards: [],
    });
  });
});
