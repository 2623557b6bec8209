/**
 * The manager's Prometheus metrics, under controller-runtime's and client-go's names so
 * existing dashboards and alerts work unchanged.
 */
import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { QueueMetrics } from './queue.js';

/** Result label of `controller_runtime_reconcile_total`. */
export type ReconcileResult = 'success' | 'error' | 'requeue' | 'requeue_after';

/**
 * prom-client is required when the metrics are made, not imported with this module: `render`
 * imports this library's door for its pure parts and exports no metrics (CONVENTIONS.md 16).
 */
const load = createRequire(import.meta.url);

/** Every metric the reconciler library exports. */
export class ManagerMetrics {
  readonly reconcileTotal: Counter<'controller' | 'result'>;
  readonly reconcileErrors: Counter<'controller'>;
  /** Reconciles that failed with an error not worth a retry (a TerminalError, itself or through causes and aggregates). */
  readonly terminalReconcileErrors: Counter<'controller'>;
  readonly reconcileTime: Histogram<'controller'>;
  readonly activeWorkers: Gauge<'controller'>;
  readonly leader: Gauge<'name'>;
  private readonly depth: Gauge<'name'>;
  private readonly adds: Counter<'name'>;
  private readonly retries: Counter<'name'>;
  private readonly queueDuration: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;

  readonly registry: Registry;

  constructor(registry?: Registry, processMetrics = true) {
    const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } = load('prom-client') as typeof import('prom-client');
    this.registry = registry ?? new Registry();
    if (processMetrics) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    const buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
    this.reconcileTotal = new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'],
      registers,
    });
    this.reconcileErrors = new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'],
      registers,
    });
    this.terminalReconcileErrors = new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller (not retried)',
      labelNames: ['controller'],
      registers,
    });
    this.reconcileTime = new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'],
      buckets,
      registers,
    });
    this.activeWorkers = new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'],
      registers,
    });
    this.leader = new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'],
      registers,
    });
    this.depth = new Gauge({ name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers });
    this.adds = new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers });
    this.retries = new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name'],
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name'],
      buckets,
      registers,
    });
    this.workDuration = new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name'],
      buckets,
      registers,
    });
  }

  /** Queue hooks bound to the queue named `name`. */
  queue(name: string): QueueMetrics {
    return {
      depth: (v) => this.depth.set({ name }, v),
      add: () => this.adds.inc({ name }),
      retry: () => this.retries.inc({ name }),
      queueDuration: (s) => this.queueDuration.observe({ name }, s),
      workDuration: (s) => this.workDuration.observe({ name }, s),
    };
  }
}
