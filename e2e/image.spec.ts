/**
 * The image as users run it. Built by `npm run image`'s own code and loaded into a Docker
 * engine (Debian's, started here when none answers), each subcommand runs as a container the
 * way the chart runs its pods: read-only root filesystem, every capability dropped, no
 * privilege escalation, user 65532; on the host network, so it reaches the local control
 * plane and the stand-ins on 127.0.0.1.
 * - the image: Node 24, no shell or package manager, the same digests when built twice;
 * - `run` takes a FlantIntegration to Ready=True as the controller's ServiceAccount;
 * - `proxy` carries a real Prometheus's alert to the Madison stand-in;
 * - `pricing` serves flant_pricing_* on /metrics as the ServiceAccount the controller made;
 * - SIGTERM stops each by itself (exit code 0) within its grace period.
 * Where no engine can be had the spec is skipped, saying why; with CI=true that fails instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildAndLoad, buildImage, defaultImageTag, type BuiltImage } from '../image/build.js';
import { ensureEngine, type Engine } from '../image/engine.js';
import { defaultCacheDir, repoRoot } from '../image/paths.js';
import { pricingRoleName } from '../src/components/metrics/render.js';
import { ensurePrometheus } from './controlplane/binaries.js';
import { freePort } from './controlplane/process.js';
import { FakeConnect } from './fakes/connect.js';
import { FakeDNS } from './fakes/dns.js';
import { FakeMadison } from './fakes/madison.js';
import { apply, condition, flantIntegration, removeFlantIntegrationAndNamespace, secret, workloadsNamespace } from './support/cluster.js';
import { controllerEnv, eventually } from './support/controller.js';
import { serviceAccountKubeconfig, untilAllowed } from './support/credentials.js';
import { installCRD } from './support/crd.js';
import { kubectl, kubectlOk } from './support/kubectl.js';
import { Containers } from './support/containers.js';

const required = process.env.CI === 'true' || process.env.E2E_REQUIRE_IMAGE === '1';
const log = (line: string) => process.stderr.write(`image spec: ${line}\n`);
const engine: Engine | Error = await ensureEngine({ cacheDir: defaultCacheDir(), log }).catch((err: unknown) =>
  err instanceof Error ? err : new Error(String(err)),
);
if (engine instanceof Error) {
  if (required) throw new Error(`the image spec must run here (CI=true) but no Docker engine can be had: ${engine.message}`);
  log(`SKIPPED: ${engine.message}`);
}

const kc = inject('kubeconfig');
const licence = 'LICENCE-image-e2e-4e7a';
const madisonKey = 'madison-key-image-e2e-0c2d';
const ns = 'image-e2e';
const backendsHost = 'madison.image.test';
const connect = new FakeConnect(licence);
const dns = new FakeDNS();
const madison = new FakeMadison();
let dir: string;
let image: BuiltImage;
let containers: Containers;
let prometheus: ChildProcess | undefined;
let madisonAddress = '';

function spec(): string {
  return flantIntegration({
    namespace: ns,
    licenseKeySecretRef: { namespace: ns, name: 'license', key: 'key' },
    connect: { url: connect.url },
    madison: { backendsHost },
    logs: { enabled: false },
    upmeter: { enabled: false },
    metrics: { scrapeInterval: '10s' },
    prometheus: { url: 'https://127.0.0.1:1', caSecretRef: { namespace: ns, name: 'prometheus-ca', key: 'ca.crt' } },
  });
}

/** Copies `file` into the folder the containers mount, readable by their user (65532). */
async function share(file: string, name: string): Promise<string> {
  await copyFile(file, join(dir, name));
  await chmod(join(dir, name), 0o644);
  return `/config/${name}`;
}

async function startPrometheus(proxyPort: number): Promise<void> {
  const { prometheus: bin } = await ensurePrometheus();
  const config = {
    global: { evaluation_interval: '1s' },
    rule_files: [join(dir, 'rules.yaml')],
    alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: [`127.0.0.1:${proxyPort}`] }] }] },
  };
  const rules = {
    groups: [
      {
        name: 'image-e2e',
        rules: [
          { alert: 'ImageE2EAlwaysFiring', expr: 'vector(1)', labels: { severity_level: '4' }, annotations: { summary: 'from the image spec' } },
        ],
      },
    ],
  };
  await writeFile(join(dir, 'prometheus.yaml'), stringify(config));
  await writeFile(join(dir, 'rules.yaml'), stringify(rules));
  const port = await freePort();
  const args = [
    `--config.file=${join(dir, 'prometheus.yaml')}`,
    `--storage.tsdb.path=${join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--rules.alert.resend-delay=1s',
  ];
  prometheus = spawn(bin, args, { stdio: 'ignore' });
}

describe.skipIf(engine instanceof Error)('the image, run as containers', () => {
  beforeAll(async () => {
    if (engine instanceof Error) return;
    dir = await mkdtemp(join(tmpdir(), 'image-e2e-'));
    await chmod(dir, 0o755);
    const started = Date.now();
    image = await buildAndLoad(engine, { log });
    log(`built and loaded ${image.tag} (${image.imageId}) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    containers = new Containers(engine, image.tag, dir);
    await installCRD(kc);
    for (const crd of ['nodegroups.deckhouse.io', 'customalertmanagers.deckhouse.io'])
      await kubectlOk(kc, ['apply', '--server-side', '-f', `e2e/fixtures/crds/${crd}.yaml`]);
    await kubectlOk(kc, ['apply', '--server-side', '-f', 'e2e/fixtures/watched/ingressnginxcontrollers.deckhouse.io.yaml']);
    await kubectlOk(kc, ['wait', '--for=condition=Established', 'crd/nodegroups.deckhouse.io', 'crd/ingressnginxcontrollers.deckhouse.io']);
    await Promise.all([connect.start(), dns.start()]);
    madisonAddress = await madison.start();
    dns.setA(backendsHost, ['192.0.2.41']);
    await workloadsNamespace(kc, ns);
    await apply(kc, secret(ns, 'license', { key: licence }));
    const ca = Buffer.from(
      await kubectlOk(kc, ['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}']),
      'base64',
    ).toString('utf8');
    await apply(kc, secret(ns, 'prometheus-ca', { 'ca.crt': ca }));
  });

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await containers?.removeAll();
    if (kc) await removeFlantIntegrationAndNamespace(kc, ns);
    await Promise.all([connect.stop(), dns.stop(), madison.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
    if (!(engine instanceof Error)) await engine.stop();
  });

  it('runs Node 24 as user 65532 and has no shell or package manager', async () => {
    expect(await containers.output(['--version'])).toMatch(/^flant-integration \d+\.\d+\.\d+ \(Node\.js v24\.\d+\.\d+\)$/);
    expect(await containers.config('{{.Config.User}}')).toBe('65532:65532');
    const files = await containers.files();
    expect(files.filter((f) => /^(usr\/)?s?bin\/(sh|bash|dash|apt|apt-get|dpkg)$/.test(f))).toEqual([]);
    expect(files).toContain('nodejs/bin/node');
    expect(files).toContain('etc/ssl/certs/ca-certificates.crt');
  });

  it('builds the same digests a second time', async () => {
    const again = await buildImage({ root: repoRoot(), cacheDir: defaultCacheDir(), output: join(dir, 'again.tar'), tag: defaultImageTag, log });
    expect({ imageId: again.imageId, manifest: again.manifestDigest }).toEqual({ imageId: image.imageId, manifest: image.manifestDigest });
  });

  it('runs the controller, which takes the FlantIntegration to Ready=True', async () => {
    const kubeconfig = await share(inject('controllerKubeconfig'), 'controller.kubeconfig');
    const [metrics, probes] = [await freePort(), await freePort()];
    await containers.start(
      'controller',
      [
        'run',
        `--kubeconfig=${kubeconfig}`,
        `--metrics-bind-address=127.0.0.1:${metrics}`,
        `--health-probe-bind-address=127.0.0.1:${probes}`,
        `--dns-server=${dns.address}`,
        `--image=${image.tag}`,
      ],
      controllerEnv,
    );
    await eventually(
      'the controller container is ready',
      async () => (await fetch(`http://127.0.0.1:${probes}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
    );
    await apply(kc, spec());
    await eventually('Ready is True', async () => (await condition(kc, 'Ready'))?.status === 'True', 90_000, 500);
    const logs = await containers.logs('controller');
    expect(logs).toContain('"msg"');
    expect(logs).not.toContain(licence);
  });

  it('runs the pricing exporter as the ServiceAccount the controller made, serving flant_pricing_* on /metrics', async () => {
    await eventually(
      'the controller bound the exporter',
      async () => (await kubectl(kc, ['get', 'clusterrolebinding', pricingRoleName])).code === 0,
      30_000,
    );
    const made = await serviceAccountKubeconfig(kc, ns, 'pricing', join(dir, 'pricing.kubeconfig.src'));
    await untilAllowed(kc, `system:serviceaccount:${ns}:pricing`, ['list', 'nodes']);
    await writeFile(join(dir, 'no-token'), '');
    const kubeconfig = await share(made, 'pricing.kubeconfig');
    const port = await freePort();
    await containers.start('pricing', [
      'pricing',
      `--kubeconfig=${kubeconfig}`,
      `--listen=127.0.0.1:${port}`,
      '--probe-listen=0',
      '--token-file=/config/no-token',
    ]);
    let body = '';
    await eventually(
      'the exporter serves the node counts',
      async () =>
        (body = (await (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => undefined))?.text()) ?? '').includes(
          'flant_pricing_nodes{type="vm"}',
        ),
      60_000,
      500,
    );
    expect(body).toMatch(/^flant_pricing_cluster_info\{/m);
  });

  it('runs madison-proxy, which carries a real Prometheus alert to the Madison stand-in', async () => {
    const caFile = await share(madison.caFile, 'madison-ca.pem');
    const port = await freePort();
    const env = {
      LISTEN_HOST: '127.0.0.1',
      LISTEN_PORT: String(port),
      MADISON_BACKEND: madisonAddress,
      MADISON_AUTH_KEY: madisonKey,
      MADISON_CA_FILE: caFile,
    };
    await containers.start('proxy', ['proxy'], env);
    await eventually(
      'the proxy container is ready',
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
      30_000,
    );
    await startPrometheus(port);
    const alerts = () => madison.requests.filter((r) => r.method === 'POST' && r.body.includes('ImageE2EAlwaysFiring'));
    await eventually("Prometheus's alert reached Madison", () => alerts().length > 0, 60_000, 250);
    expect(alerts()[0]).toMatchObject({ path: `/api/events/prometheus/${madisonKey}`, host: 'madison.flant.com' });
    const sent = JSON.parse(alerts()[0]?.body ?? '[]') as Array<{ labels: Record<string, string> }>;
    expect(sent[0]?.labels).toMatchObject({ alertname: 'ImageE2EAlwaysFiring', severity_level: '4' });
    expect(await containers.logs('proxy')).not.toContain(madisonKey);
  });

  it.each(['controller', 'pricing', 'proxy'])('stops the %s container on SIGTERM by itself within its grace period', async (name) => {
    const stopped = await containers.stop(name, 30);
    log(`${name} stopped in ${stopped.seconds.toFixed(1)} s, exit code ${stopped.exitCode}`);
    expect(stopped).toMatchObject({ exitCode: 0, oomKilled: false });
  });
});
