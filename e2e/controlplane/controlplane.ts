/**
 * A real Kubernetes control plane on 127.0.0.1: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and kwok (fake nodes whose pods become
 * Running), on free ports with a temporary data folder. Used by the e2e specs and by
 * `npm start`'s embedded mode. `stop()` leaves no process and no port behind.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureBinaries, type Binaries, type BinaryOptions } from './binaries.js';
import { freePort, startProcess, waitFor, type Managed } from './process.js';

/** How to start a control plane. */
export interface ControlPlaneOptions extends BinaryOptions {
  /** Number of kwok nodes. @default 2 */
  readonly nodes?: number;
  /** Keep the data folder (logs) after `stop()`. @default false */
  readonly keepData?: boolean;
  /** Seconds to wait for each component. @default 90 */
  readonly startTimeoutSeconds?: number;
  /**
   * Where kube-apiserver writes its audit log (JSON lines, `Metadata` level, ServiceAccount
   * users only: the controller's and the exporter's requests, never a request or response
   * body). @default logs/audit.log in the data folder
   */
  readonly auditLogPath?: string;
  /**
   * How many pods and nodes kwok moves through their stages at once, and how many node Leases
   * it renews at once (kwok's own default is 4 for each); the scale bench raises them so that
   * tens of thousands of pods become Running in minutes. @default kwok's defaults
   */
  readonly kwokParallelism?: number;
  /**
   * The Lease duration of kwok's nodes; each renews it every quarter of that, as a kubelet
   * does. kube-controller-manager's node monitor grace period follows, so a node is never
   * marked unreachable between two renewals. @default 40 (the kubelet's)
   */
  readonly nodeLeaseSeconds?: number;
  /**
   * How often kwok rewrites each node's status when nothing changed (a kubelet's
   * nodeStatusReportFrequency is 5 minutes). kwok v0.7.0 picks its 20-45 s heartbeat stage
   * exactly when node Leases are on (its test of the lease option is inverted), so 1,000
   * nodes cost the API server about 50 status writes a second; with this set, kwok runs our
   * own two node stages instead (`kwokNodeStages`). @default kwok's own stages
   */
  readonly nodeStatusSeconds?: number;
}

/** Audit policy: every request of a ServiceAccount at Metadata level (verb, user, object reference, response code), nothing else. */
const auditPolicy = [
  'apiVersion: audit.k8s.io/v1',
  'kind: Policy',
  'omitStages: [RequestReceived]',
  'rules:',
  '  - level: Metadata',
  '    userGroups: ["system:serviceaccounts"]',
  '  - level: None',
  '',
].join('\n');

/** Annotation kwok selects the nodes it manages by. */
export const kwokNodeAnnotation = 'kwok.x-k8s.io/node';

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  kwok: number;
}

/** A running control plane. */
export class ControlPlane {
  private processes = new Map<string, Managed>();
  private stopped = false;
  private ca?: Buffer;

  private constructor(
    /** Data folder: etcd data, certificates, kubeconfig, logs. */
    readonly dir: string,
    /** Path of the admin kubeconfig. */
    readonly kubeconfigPath: string,
    /** URL of kube-apiserver. */
    readonly server: string,
    private readonly binaries: Binaries,
    private readonly ports: Ports,
    private readonly token: string,
    private readonly options: ControlPlaneOptions,
  ) {}

  /** Builds what is missing, starts every component and waits until nodes are Ready. */
  static async start(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
    const binaries = await ensureBinaries(options);
    const dir = await mkdtemp(join(tmpdir(), 'flant-e2e-'));
    const ports: Ports = { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort(), kwok: await freePort() };
    const token = randomBytes(24).toString('hex');
    const plane = new ControlPlane(dir, join(dir, 'kubeconfig'), `https://127.0.0.1:${ports.apiserver}`, binaries, ports, token, options);
    try {
      await plane.boot();
    } catch (err) {
      await plane.stop();
      throw err;
    }
    return plane;
  }

  private get timeoutMs(): number {
    return (this.options.startTimeoutSeconds ?? 90) * 1000;
  }

  private async boot(): Promise<void> {
    await mkdir(join(this.dir, 'logs'));
    await mkdir(join(this.dir, 'pki'));
    await mkdir(dirname(this.auditLogPath), { recursive: true });
    await this.writeCredentials();
    await this.startEtcd();
    await this.startApiServer();
    await writeFile(this.kubeconfigPath, await this.kubeconfig(), { mode: 0o600 });
    this.startComponent('kube-controller-manager', this.binaries.kubeControllerManager, this.controllerManagerArgs());
    this.startComponent('kube-scheduler', this.binaries.kubeScheduler, this.schedulerArgs());
    if (this.usesKwokConfig) await writeFile(this.kwokConfigPath, kwokConfiguration(this.options.kwokParallelism, this.options.nodeStatusSeconds));
    this.startComponent('kwok', this.binaries.kwok, this.kwokArgs());
    await this.createNodes(this.options.nodes ?? 2);
    await this.waitForReadyNodes(this.options.nodes ?? 2);
    await this.waitForDefaultServiceAccount();
  }

  /** Stops every component (kube-apiserver's clients first) and removes the data folder. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const name of ['kwok', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd']) {
      await this.processes.get(name)?.stop();
    }
    if (!this.options.keepData) await rm(this.dir, { recursive: true, force: true });
  }

  /** PIDs of the running components, for tests that check nothing survives. */
  pids(): number[] {
    return [...this.processes.values()].filter((p) => !p.done()).map((p) => p.pid);
  }

  /** The audit log kube-apiserver writes (see ControlPlaneOptions.auditLogPath). */
  get auditLogPath(): string {
    return this.options.auditLogPath ?? join(this.dir, 'logs', 'audit.log');
  }

  /** Kills kube-apiserver hard (SIGKILL). */
  async killApiServer(): Promise<void> {
    await this.processes.get('kube-apiserver')?.stop(0);
  }

  /** Starts kube-apiserver again on the same port and waits until it is ready. */
  async restartApiServer(): Promise<void> {
    await this.startApiServer();
  }

  /** The admin kubeconfig as YAML: token authentication, the CA kube-apiserver generated. */
  async kubeconfig(): Promise<string> {
    const ca = (await this.caPem()).toString('base64');
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: e2e',
      '  cluster:',
      `    server: ${this.server}`,
      `    certificate-authority-data: ${ca}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${this.token}`,
      'contexts:',
      '- name: e2e',
      '  context: {cluster: e2e, user: admin}',
      'current-context: e2e',
      '',
    ].join('\n');
  }

  private async writeCredentials(): Promise<void> {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(this.dir, 'pki', 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
    await writeFile(join(this.dir, 'pki', 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(join(this.dir, 'pki', 'tokens.csv'), `${this.token},admin,admin,"system:masters"\n`);
    await writeFile(join(this.dir, 'pki', 'audit-policy.yaml'), auditPolicy);
  }

  private startComponent(name: string, binary: string, args: string[]): Managed {
    const managed = startProcess(name, binary, args, join(this.dir, 'logs', `${name}.log`));
    this.processes.set(name, managed);
    return managed;
  }

  private async startEtcd(): Promise<void> {
    const { etcdClient, etcdPeer } = this.ports;
    const etcd = this.startComponent('etcd', this.binaries.etcd, [
      '--name=e2e',
      `--data-dir=${join(this.dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
      `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=e2e=http://127.0.0.1:${etcdPeer}`,
      '--quota-backend-bytes=2147483648',
    ]);
    await this.waitUntil('etcd', etcd, async () => (await get(`http://127.0.0.1:${etcdClient}/health`)).includes('"health":"true"'));
  }

  private async startApiServer(): Promise<void> {
    const pki = join(this.dir, 'pki');
    const apiserver = this.startComponent('kube-apiserver', this.binaries.kubeApiserver, [
      `--etcd-servers=http://127.0.0.1:${this.ports.etcdClient}`,
      `--cert-dir=${pki}`,
      `--secure-port=${this.ports.apiserver}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=RBAC',
      `--token-auth-file=${join(pki, 'tokens.csv')}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${join(pki, 'sa.pub')}`,
      `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--allow-privileged=true',
      '--enable-priority-and-fairness=false',
      '--event-ttl=30m',
      `--audit-policy-file=${join(pki, 'audit-policy.yaml')}`,
      `--audit-log-path=${this.auditLogPath}`,
      '--audit-log-format=json',
      // As hardened clusters run it: an owner reference with blockOwnerDeletion needs update on the owner's finalizers.
      '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
      '--audit-log-maxsize=0',
    ]);
    await this.waitUntil('kube-apiserver', apiserver, async () => (await this.apiGet('/readyz')) === 'ok');
  }

  private controllerManagerArgs(): string[] {
    return [
      `--kubeconfig=${this.kubeconfigPath}`,
      '--leader-elect=false',
      '--secure-port=0',
      `--service-account-private-key-file=${join(this.dir, 'pki', 'sa.key')}`,
      `--root-ca-file=${join(this.dir, 'pki', 'apiserver.crt')}`,
      '--use-service-account-credentials=false',
      '--kube-api-qps=200',
      '--kube-api-burst=400',
      '--concurrent-deployment-syncs=10',
      ...(this.options.nodeLeaseSeconds ? [`--node-monitor-grace-period=${Math.max(50, Math.ceil(this.options.nodeLeaseSeconds * 1.5))}s`] : []),
    ];
  }

  private schedulerArgs(): string[] {
    return [`--kubeconfig=${this.kubeconfigPath}`, '--leader-elect=false', '--secure-port=0'];
  }

  private get kwokConfigPath(): string {
    return join(this.dir, 'kwok.yaml');
  }

  private get usesKwokConfig(): boolean {
    return this.options.kwokParallelism !== undefined || this.options.nodeStatusSeconds !== undefined;
  }

  private kwokArgs(): string[] {
    return [
      ...(this.usesKwokConfig ? [`--config=${this.kwokConfigPath}`] : []),
      `--kubeconfig=${this.kubeconfigPath}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${kwokNodeAnnotation}=fake`,
      '--cidr=10.244.0.0/16',
      '--node-ip=10.244.0.1',
      `--node-lease-duration-seconds=${this.options.nodeLeaseSeconds ?? 40}`,
      `--server-address=127.0.0.1:${this.ports.kwok}`,
    ];
  }

  private async createNodes(count: number): Promise<void> {
    for (let i = 0; i < count; i++) {
      const name = `kwok-node-${i}`;
      await this.apiRequest('POST', '/api/v1/nodes', {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: { [kwokNodeAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
          labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
        },
        status: {
          allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
          capacity: { cpu: '32', memory: '256Gi', pods: '110' },
        },
      });
    }
  }

  private async waitForReadyNodes(count: number): Promise<void> {
    await waitFor(
      `${count} Ready kwok nodes`,
      async () => {
        const list = JSON.parse(await this.apiGet('/api/v1/nodes')) as {
          items: Array<{ status?: { conditions?: Array<{ type: string; status: string }> } }>;
        };
        const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return ready.length >= count;
      },
      this.timeoutMs,
    );
  }

  private async waitForDefaultServiceAccount(): Promise<void> {
    await waitFor(
      'the default ServiceAccount (kube-controller-manager up)',
      async () => {
        await this.apiGet('/api/v1/namespaces/default/serviceaccounts/default');
        return true;
      },
      this.timeoutMs,
    );
  }

  private async waitUntil(what: string, managed: Managed, check: () => Promise<boolean>): Promise<void> {
    try {
      await waitFor(
        what,
        async () => {
          if (managed.done()) throw new Error(`${what} exited (${await managed.exited})`);
          return check();
        },
        this.timeoutMs,
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- last lines of ${what}.log ---\n${await this.tail(what)}`, { cause: err });
    }
  }

  private async tail(name: string): Promise<string> {
    const text = await readFile(join(this.dir, 'logs', `${name}.log`), 'utf8').catch(() => '');
    return text.split('\n').slice(-25).join('\n');
  }

  /** GET on kube-apiserver as admin; rejects on HTTP errors. */
  async apiGet(path: string): Promise<string> {
    return this.apiRequest('GET', path);
  }

  /** The CA kube-apiserver generated at its first start (kept in its cert dir across restarts), read once it exists. */
  private async caPem(): Promise<Buffer> {
    this.ca ??= await readFile(join(this.dir, 'pki', 'apiserver.crt'));
    return this.ca;
  }

  /** A request to kube-apiserver as admin with a JSON body. */
  async apiRequest(method: string, path: string, body?: unknown): Promise<string> {
    const ca = await this.caPem();
    return request(`${this.server}${path}`, { method, ca, headers: { Authorization: `Bearer ${this.token}` } }, body);
  }
}

/**
 * kwok's configuration file: its parallelism options set to `parallelism` (when given) and,
 * when `statusSeconds` is given, the node stages of `kwokNodeStages` in place of kwok's own.
 */
export function kwokConfiguration(parallelism: number | undefined, statusSeconds: number | undefined): string {
  const documents: string[] = [];
  if (parallelism !== undefined) {
    documents.push(
      [
        'apiVersion: config.kwok.x-k8s.io/v1alpha1',
        'kind: KwokConfiguration',
        'options:',
        `  podPlayStageParallelism: ${parallelism}`,
        `  nodePlayStageParallelism: ${parallelism}`,
        `  nodeLeaseParallelism: ${parallelism}`,
      ].join('\n'),
    );
  }
  if (statusSeconds !== undefined) documents.push(...kwokNodeStages(statusSeconds));
  return `${documents.join('\n---\n')}\n`;
}

/**
 * Two kwok Stages for Nodes. `node-up` makes a node that is not Ready Ready and Running, with
 * large capacity unless the node states its own; `node-status-refresh` rewrites a Ready node's
 * condition times every `statusSeconds` (spread over the next tenth of that, so that thousands
 * of nodes do not write at the same instant). Liveness in between comes from the node Leases.
 */
export function kwokNodeStages(statusSeconds: number): string[] {
  const conditions = [
    '      conditions:',
    '      {{ range NodeConditions }}',
    '      - type: {{ .type | Quote }}',
    '        status: {{ .status | Quote }}',
    '        reason: {{ .reason | Quote }}',
    '        message: {{ .message | Quote }}',
    '        lastHeartbeatTime: {{ Now | Quote }}',
    '        lastTransitionTime: {{ or $.metadata.creationTimestamp Now | Quote }}',
    '      {{ end }}',
  ];
  const readySelector = (operator: string): string[] => [
    '  selector:',
    '    matchExpressions:',
    '    - key: \'.status.conditions.[] | select( .type == "Ready" ) | .status\'',
    `      operator: '${operator}'`,
    "      values: ['True']",
  ];
  const head = (name: string): string[] => [
    'apiVersion: kwok.x-k8s.io/v1alpha1',
    'kind: Stage',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  resourceRef:',
    '    apiGroup: v1',
    '    kind: Node',
  ];
  const resources = (field: string): string[] => [
    `      ${field}:`,
    `      {{ with .status.${field} }}{{ YAML . 1 }}{{ else }}`,
    '        cpu: 1k',
    '        memory: 1Ti',
    '        pods: 1M',
    '      {{ end }}',
  ];
  const up = [
    ...head('node-up'),
    ...readySelector('NotIn'),
    '  next:',
    '    statusTemplate: |',
    ...conditions,
    '      addresses:',
    '      - type: InternalIP',
    '        address: {{ NodeIP | Quote }}',
    '      - type: Hostname',
    '        address: {{ .metadata.name | Quote }}',
    ...resources('capacity'),
    ...resources('allocatable'),
    '      nodeInfo:',
    '        architecture: amd64',
    '        operatingSystem: linux',
    '        kubeletVersion: {{ printf "kwok-%s" Version | Quote }}',
    '      phase: Running',
  ];
  const refresh = [
    ...head('node-status-refresh'),
    ...readySelector('In'),
    '  delay:',
    `    durationMilliseconds: ${statusSeconds * 1000}`,
    `    jitterDurationMilliseconds: ${Math.round(statusSeconds * 1100)}`,
    '  next:',
    '    statusTemplate: |',
    ...conditions,
  ];
  return [up.join('\n'), refresh.join('\n')];
}

function get(url: string): Promise<string> {
  return request(url, { method: 'GET' });
}

/** One HTTP(S) request; resolves with the body of a 2xx answer, rejects otherwise. */
function request(url: string, options: https.RequestOptions, body?: unknown): Promise<string> {
  const lib = url.startsWith('https:') ? https : http;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers = { ...(options.headers ?? {}), ...(payload ? { 'Content-Type': 'application/json' } : {}) };
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { ...options, headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve(text);
        else reject(new Error(`${options.method ?? 'GET'} ${url}: HTTP ${code}: ${text.slice(0, 300)}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}
