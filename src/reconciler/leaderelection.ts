/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: a lease held
 * by someone else is taken over only after it went unrenewed for a whole lease duration
 * *as observed locally* (so clock skew between machines does not matter); a leader that
 * cannot renew within the renew deadline steps down; a clean shutdown releases the lease.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import { errorText } from './informer.js';
import { isConflict, isNotFound, type KubeClient, type KubeObject } from './kube.js';

/** Timing and identity of leader election. */
export interface LeaderElectionOptions {
  /** Namespace of the Lease. */
  readonly namespace: string;
  /** Name of the Lease. */
  readonly name: string;
  /** This process's identity, written as holderIdentity. */
  readonly identity: string;
  /** How long a lease is valid after its last renewal. @default 15000 */
  readonly leaseDurationMs?: number;
  /** A leader that has not renewed for this long steps down. @default 10000 */
  readonly renewDeadlineMs?: number;
  /** Pause between tries to acquire or renew. @default 2000 */
  readonly retryPeriodMs?: number;
}

/** What happens when leadership changes. */
export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void | Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** A metav1.MicroTime string: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Takes part in leader election until the signal aborts. */
export class LeaderElector {
  private leader = false;
  private observedRecord = '';
  private observedTime = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** True while this process holds the lease. */
  isLeader(): boolean {
    return this.leader;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.options.namespace}/leases/${this.options.name}`;
  }

  private get retryMs(): number {
    return this.options.retryPeriodMs ?? 2000;
  }

  /** Acquires, renews, steps down and acquires again, until `signal` aborts; then releases. */
  async run(signal: AbortSignal, callbacks: LeaderCallbacks): Promise<void> {
    while (!signal.aborted) {
      if (!(await this.acquire(signal))) break;
      this.leader = true;
      this.log.info({ lease: `${this.options.namespace}/${this.options.name}` }, 'became leader');
      callbacks.onStartedLeading();
      await this.renewWhileLeading(signal);
      this.leader = false;
      await callbacks.onStoppedLeading();
      if (!signal.aborted) this.log.warn('lost leadership: could not renew the lease in time');
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (await this.tryAcquireOrRenew()) return true;
      await this.clock.sleep(this.retryMs, signal);
    }
    return false;
  }

  /**
   * Renews every retry period until the renew deadline passes with no renewal. The deadline
   * is measured on the monotonic clock and bounds every attempt: a renewal whose GET and PUT
   * are slow is abandoned (its requests aborted) when the deadline comes, so a leader never
   * goes on believing it leads past its deadline.
   */
  private async renewWhileLeading(signal: AbortSignal): Promise<void> {
    const deadline = this.options.renewDeadlineMs ?? 10_000;
    let lastRenew = this.clock.monotonic();
    while (!signal.aborted) {
      await this.clock.sleep(Math.min(this.retryMs, Math.max(0, lastRenew + deadline - this.clock.monotonic())), signal);
      if (signal.aborted) return;
      const left = lastRenew + deadline - this.clock.monotonic();
      if (left <= 0) return;
      // The lease says it was renewed when the attempt began (renewTime is taken then): count from there.
      const attemptStarted = this.clock.monotonic();
      if (await this.renewWithin(left, signal)) lastRenew = attemptStarted;
    }
  }

  /** One renewal attempt, given up (and its requests aborted) after `ms`. */
  private async renewWithin(ms: number, signal: AbortSignal): Promise<boolean> {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    signal.addEventListener('abort', stop, { once: true });
    const timer = this.clock.after(ms, stop);
    try {
      const renewed = this.tryAcquireOrRenew(attempt.signal);
      const abandoned = new Promise<boolean>((resolve) => attempt.signal.addEventListener('abort', () => resolve(false), { once: true }));
      return await Promise.race([renewed, abandoned]);
    } finally {
      timer.cancel();
      signal.removeEventListener('abort', stop);
    }
  }

  /** One try: true when this process holds the lease afterwards. `signal` aborts its requests. */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = this.clock.now();
    try {
      const lease = await this.getLease(signal);
      if (signal?.aborted) return false;
      if (!lease) return await this.create(now, signal);
      const spec = lease.spec ?? {};
      const record = JSON.stringify(spec);
      if (record !== this.observedRecord) {
        this.observedRecord = record;
        this.observedTime = now;
      }
      const heldByOther = Boolean(spec.holderIdentity) && spec.holderIdentity !== this.options.identity;
      const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
      if (heldByOther && this.observedTime + durationMs > now) return false;
      return await this.update(lease, this.nextSpec(spec, now), signal);
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'leader election: cannot read or write the lease');
      return false;
    }
  }

  /** Gives the lease up so another process can take it at once. */
  async release(): Promise<void> {
    try {
      const lease = await this.getLease();
      if (!lease || lease.spec?.holderIdentity !== this.options.identity) return;
      const now = microTime(this.clock.now());
      await this.update(lease, { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now });
      this.log.info('released the lease');
    } catch (err) {
      this.log.warn({ err: errorText(err) }, 'could not release the lease');
    }
  }

  private nextSpec(spec: LeaseSpec, now: number): LeaseSpec {
    const mine = spec.holderIdentity === this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.ceil((this.options.leaseDurationMs ?? 15_000) / 1000),
      acquireTime: mine && spec.acquireTime ? spec.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: mine ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
    };
  }

  private async getLease(signal?: AbortSignal): Promise<Lease | undefined> {
    try {
      return await this.client.request<Lease>('GET', this.path, { timeoutMs: this.retryMs * 2, signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private async create(now: number, signal?: AbortSignal): Promise<boolean> {
    const body: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.options.name, namespace: this.options.namespace },
      spec: { ...this.nextSpec({}, now), leaseTransitions: 0 },
    };
    try {
      await this.client.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${this.options.namespace}/leases`, { body, signal });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }

  private async update(lease: Lease, spec: LeaseSpec, signal?: AbortSignal): Promise<boolean> {
    try {
      await this.client.request('PUT', this.path, { body: { ...lease, spec }, timeoutMs: this.retryMs * 2, signal });
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      throw err;
    }
  }
}
